#!/usr/bin/env bash
# Release the checkout service: build, push, plan, apply.
set -euo pipefail

NAMESPACE="${NAMESPACE:-shop}"
TAG="$(git rev-parse --short HEAD)"

docker build -t "registry.example.com/shop/checkout:${TAG}" .
docker push "registry.example.com/shop/checkout:${TAG}"

kubectl -n "$NAMESPACE" get deploy checkout -o wide
# stop the old pods first so the migration runs alone
kubectl -n "$NAMESPACE" scale deploy/checkout --replicas=0
terraform -chdir=infra/prod plan -out=tfplan
terraform -chdir=infra/prod apply -auto-approve
helm upgrade --install checkout ./charts/checkout -n "$NAMESPACE" \
  --set image.tag="$TAG" --atomic --timeout 10m
kubectl -n "$NAMESPACE" rollout status deploy/checkout --timeout=10m
