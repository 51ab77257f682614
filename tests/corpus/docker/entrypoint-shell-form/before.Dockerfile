FROM eclipse-temurin:21.0.4_7-jre
WORKDIR /opt/orders
COPY build/libs/orders.jar orders.jar
USER 10001
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["java", "-XX:MaxRAMPercentage=75", "-jar", "orders.jar"]
