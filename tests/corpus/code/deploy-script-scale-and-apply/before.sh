#!/usr/bin/env bash
# Release the checkout service: build, push, plan.
set -euo pipefail

NAMESPACE="${NAMESPACE:-shop}"
TAG="$(git rev-parse --short HEAD)"

docker build -t "registry.example.com/shop/checkout:${TAG}" .
docker push "registry.example.com/shop/checkout:${TAG}"

kubectl -n "$NAMESPACE" get deploy checkout -o wide
terraform -chdir=infra/prod plan -out=tfplan
