# Shared by the bench scripts (sourced from the repository root): the emulators they time
# against, and the median of a column of numbers.

# median < numbers: the median of one number per line.
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# start_s3rver DIR: s3rver serving bucket "bench" from DIR (emptied first) on a random
# loopback port; sets S3PID and exports the AWS_* variables pinstream and the AWS CLI read.
# The caller kills $S3PID (e.g. in its EXIT trap).
start_s3rver() {
  local dir=$1 s3rver=$PWD/.tools/node/node_modules/s3rver/bin/s3rver.js port
  [ -f "$s3rver" ] || { echo "s3rver missing: run scripts/setup" >&2; exit 2; }
  port=$(( 20000 + RANDOM % 20000 ))
  rm -rf "$dir"
  node --openssl-legacy-provider "$s3rver" --directory "$dir" --address 127.0.0.1 \
    --port "$port" --silent --configure-bucket bench >/dev/null 2>&1 &
  S3PID=$!
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
  export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port
}

# start_broker BIN PARTITIONS BROKERS WORKDIR: the dev broker (`pinstream broker`); sets
# broker (its pid) and exports PINSTREAM_KAFKA. The caller kills $broker.
start_broker() {
  "$1" broker --partitions "$2" --brokers "$3" >"$4/broker.out" 2>"$4/broker.err" &
  broker=$!
  for _ in $(seq 100); do [ -s "$4/broker.out" ] && break; sleep 0.1; done
  export PINSTREAM_KAFKA=$(head -1 "$4/broker.out")
}
