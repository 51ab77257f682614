#!/usr/bin/env bash
set -euo pipefail
NAMESPACE="${1:?namespace}"
kubectl -n "$NAMESPACE" rollout restart deploy/checkout
kubectl -n "$NAMESPACE" rollout status deploy/checkout --timeout=5m
