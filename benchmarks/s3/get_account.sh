#!/usr/bin/env bash
# S3 vs Swift GET: benchmarks/s3/account.sh with METHOD=GET (see there for what it measures).
# Usage: benchmarks/s3/get_account.sh AIO_JSON   (env as account.sh's)
METHOD=GET exec "$(dirname "$0")/account.sh" "$@"
