FROM golang:1.22.5-bookworm AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /out/ledger ./cmd/ledger

FROM gcr.io/distroless/static-debian12:latest
COPY --from=build /out/ledger /ledger
USER nonroot:nonroot
ENTRYPOINT ["/ledger"]
