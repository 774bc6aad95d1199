#!/usr/bin/env bash
# Runs a command against an AWS emulator started on free 127.0.0.1 ports, then stops it.
#   [EMULATOR=moto|ministack|localstack|dynamodb-local] infra/scripts/with-emulator.sh CMD...
#
#   moto (default)   moto server for every service.
#   ministack        ministack for every service but Cognito, which is moto's: ministack's user
#                    pool JWKS publishes a modulus that is not base64url (193 characters), so
#                    no ID token it issues can be verified.
#   dynamodb-local   AWS's own DynamoDB Local for DynamoDB; moto for SQS, S3, Secrets Manager, SES.
#   localstack       LocalStack (free edition, host mode) for SQS, S3 and Secrets Manager;
#                    DynamoDB Local for DynamoDB, because LocalStack's own DynamoDB downloads a
#                    JDK and DynamoDB Local at first use, which fails offline; moto for SES v2
#                    (notify's e-mail) and Cognito (the console's sign-in), which LocalStack's
#                    free edition does not serve.
#
# The services are told apart with the SDKs' per-service endpoints (AWS_ENDPOINT_URL_DYNAMODB,
# AWS_ENDPOINT_URL_SESV2 beside AWS_ENDPOINT_URL). If AWS_ENDPOINT_URL is already set, nothing
# starts and CMD runs against that. Each emulator is installed, pinned, by setup-emulator.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}"
export AWS_EC2_METADATA_DISABLED=true
emulator="${EMULATOR:-moto}"
logs=.local/emulator-logs
mkdir -p "$logs"

groups=()
scratch=()
stop_all() {
  local group
  for group in "${groups[@]}"; do
    kill -- "-$group" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "${scratch[@]}"
}
trap stop_all EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME URL-PATH PORT CMD... : CMD in its own process group (stopped with everything it
# spawned), then waits until it answers at http://127.0.0.1:PORT/URL-PATH. Sets $url.
start() {
  local name=$1 path=$2 port=$3
  shift 3
  setsid "$@" >"$logs/$name.log" 2>&1 &
  groups+=("$!")
  python3 infra/scripts/wait-http.py "$name" "http://127.0.0.1:$port$path" "$!" "$logs/$name.log"
  url="http://127.0.0.1:$port"
}

start_moto() {
  infra/scripts/setup-emulator.sh moto
  local port
  port=$(free_port)
  start moto /moto-api/ "$port" .venv/bin/moto_server -H 127.0.0.1 -p "$port"
}

start_dynamodb_local() {
  infra/scripts/setup-emulator.sh dynamodb-local
  local port dir=.local/emulators/dynamodb-local
  port=$(free_port)
  # -sharedDb: one database whatever the credentials and region of the caller. Run from its
  # own directory, where it writes a metadata file even in memory.
  start dynamodb-local / "$port" env -C "$dir" java -Djava.library.path=DynamoDBLocal_lib \
    -jar DynamoDBLocal.jar -inMemory -sharedDb -port "$port"
}

start_ministack() {
  infra/scripts/setup-emulator.sh ministack
  local port
  port=$(free_port)
  # Only the gateway: the listeners with fixed ports of their own (MQTT over mTLS, SFTP) off.
  start ministack /_ministack/health "$port" env GATEWAY_PORT="$port" BIND_HOST=127.0.0.1 \
    MINISTACK_HOST=127.0.0.1 IOT_MTLS_ENABLED=0 SFTP_ENABLED=0 LOG_LEVEL=WARNING \
    .local/emulators/ministack/bin/ministack
}

start_localstack() {
  infra/scripts/setup-emulator.sh localstack
  local port root
  port=$(free_port)
  root="$PWD/.local/localstack-$port"
  scratch+=("$root")
  # Host mode, offline: no DNS server, no certificate download, no analytics; its state in
  # a directory of its own.
  start localstack /_localstack/health "$port" env SERVICES=sqs,s3,secretsmanager,sts,cloudformation \
    GATEWAY_LISTEN="127.0.0.1:$port" DNS_ADDRESS=0 SKIP_SSL_CERT_DOWNLOAD=1 DISABLE_EVENTS=1 \
    LOCALSTACK_VOLUME_DIR="$root/volume" FILESYSTEM_ROOT="$root/fs" \
    .local/emulators/localstack/bin/python -m localstack.runtime.main
}

if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
  echo "AWS emulator: the one at $AWS_ENDPOINT_URL (AWS_ENDPOINT_URL was set)" >&2
  exec "$@"
fi

case "$emulator" in
  moto)
    start_moto
    export AWS_ENDPOINT_URL=$url
    ;;
  ministack)
    start_moto
    export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=$url
    start_ministack
    export AWS_ENDPOINT_URL=$url
    ;;
  dynamodb-local)
    start_moto
    export AWS_ENDPOINT_URL=$url
    start_dynamodb_local
    export AWS_ENDPOINT_URL_DYNAMODB=$url
    ;;
  localstack)
    start_moto
    export AWS_ENDPOINT_URL_SESV2=$url
    export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER=$url
    start_localstack
    export AWS_ENDPOINT_URL=$url
    start_dynamodb_local
    export AWS_ENDPOINT_URL_DYNAMODB=$url
    ;;
  *)
    echo "EMULATOR=$emulator: moto, ministack, localstack or dynamodb-local" >&2
    exit 2
    ;;
esac
echo "AWS emulator: $emulator at $AWS_ENDPOINT_URL${AWS_ENDPOINT_URL_DYNAMODB:+ (DynamoDB at $AWS_ENDPOINT_URL_DYNAMODB)}${AWS_ENDPOINT_URL_SESV2:+ (SES v2 at $AWS_ENDPOINT_URL_SESV2)}${AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER:+ (Cognito at $AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER)}" >&2
"$@"
