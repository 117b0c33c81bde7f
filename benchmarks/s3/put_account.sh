#!/usr/bin/env bash
# S3 vs Swift PUT (with the s3-noexp kind: the 100 Continue's cost): benchmarks/s3/account.sh with
# METHOD=PUT (see there for what it measures).
# Usage: benchmarks/s3/put_account.sh AIO_JSON   (env as account.sh's)
METHOD=PUT exec "$(dirname "$0")/account.sh" "$@"
