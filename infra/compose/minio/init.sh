#!/bin/sh
# Run once by the `minio-init` service (minio/mc image) after MinIO is healthy; safe to re-run.
# Creates the private bucket, and the application's own MinIO user (LB_S3_ACCESS_KEY /
# LB_S3_SECRET_KEY) limited by lessonbridge-app-policy.json to that bucket, so the services
# never hold the root credentials.
set -eu

: "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}" "${LB_S3_ACCESS_KEY:?}" "${LB_S3_SECRET_KEY:?}"
# Fixed: it must match LB_S3_BUCKET in docker-compose.yml and the ARNs in the policy file.
BUCKET=lessonbridge
POLICY=lessonbridge-app
POLICY_FILE="$(dirname "$0")/lessonbridge-app-policy.json"

mc alias set lb http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing "lb/$BUCKET"
# Private: objects are served through the API (or URLs it signs), never anonymously.
mc anonymous set none "lb/$BUCKET"
# `policy create` and `user add` overwrite: the policy file and .env stay the source of truth.
mc admin policy create lb "$POLICY" "$POLICY_FILE"
mc admin user add lb "$LB_S3_ACCESS_KEY" "$LB_S3_SECRET_KEY"
# A second attach fails with "policy change is already in effect"; that one is not an error.
if ! out="$(mc admin policy attach lb "$POLICY" --user "$LB_S3_ACCESS_KEY" 2>&1)"; then
  case "$out" in
    *"already in effect"*) ;;
    *) echo "$out" >&2; exit 1 ;;
  esac
fi
echo "bucket $BUCKET and user $LB_S3_ACCESS_KEY (policy $POLICY) are ready"
