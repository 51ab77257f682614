#!/usr/bin/env bash
set -euo pipefail
NS="${1:?namespace}"
kubectl -n "$NS" rollout restart deploy/checkout
kubectl -n "$NS" rollout status deploy/checkout --timeout=5m
