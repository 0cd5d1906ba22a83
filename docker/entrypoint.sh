#!/bin/sh
# Maps the container's environment to `framestamp serve` flags, once, here.
#   FRAMESTAMP_ENGINE_URLS     comma-separated engine URLs (required)
#   FRAMESTAMP_MAX_MODEL_LEN   the engines' --max-model-len (default 32768)
#   FRAMESTAMP_MEDIA_DIR       folder file:// URLs may name (default /media)
#   FRAMESTAMP_UPLOAD_DIR      uploads (default /var/lib/framestamp/uploads)
#   FRAMESTAMP_API_KEYS_FILE   file of API keys, one a line (a mounted secret)
#   FRAMESTAMP_ENGINE_API_KEY_FILE  file holding the engines' --api-key
#   FRAMESTAMP_EXTRA_ARGS      anything else for `framestamp serve`
# FRAMESTAMP_API_KEYS (comma-separated) is read by framestamp itself.
set -eu
: "${FRAMESTAMP_ENGINE_URLS:?set FRAMESTAMP_ENGINE_URLS to the engine URL(s)}"
set -- serve --host 0.0.0.0 --port 8000 --ui-port 7860 \
    --max-model-len "${FRAMESTAMP_MAX_MODEL_LEN:-32768}" \
    --media-dir "${FRAMESTAMP_MEDIA_DIR:-/media}" \
    --upload-dir "${FRAMESTAMP_UPLOAD_DIR:-/var/lib/framestamp/uploads}" "$@"
for url in $(echo "$FRAMESTAMP_ENGINE_URLS" | tr ',' ' '); do
  set -- "$@" --engine-url "$url"
done
if [ -n "${FRAMESTAMP_API_KEYS_FILE:-}" ]; then
  set -- "$@" --api-keys-file "$FRAMESTAMP_API_KEYS_FILE"
fi
if [ -n "${FRAMESTAMP_ENGINE_API_KEY_FILE:-}" ]; then
  set -- "$@" --engine-api-key "$(cat "$FRAMESTAMP_ENGINE_API_KEY_FILE")"
fi
# shellcheck disable=SC2086
exec framestamp "$@" ${FRAMESTAMP_EXTRA_ARGS:-}
