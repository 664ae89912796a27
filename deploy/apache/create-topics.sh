#!/bin/sh
# Creates the sample's topics and consumer groups on the Apache RocketMQ 5 cluster of the `apache`
# profile (the rmq-init service of docker-compose.yml runs it once, in the apache/rocketmq image,
# from its bin directory). The same resources as apps/sample/broker-config.json gives the built-in
# broker; test/compose/compose-file.e2e.ts checks that the two lists agree.
#
# mqadmin exits 0 even when a command fails, so success is read from what it prints
# ("create topic to <broker> success.", "create subscription group to <broker> success.").
set -eu

NAMESRV="${NAMESRV_ADDR:-rmq-namesrv:9876}"
CLUSTER="${CLUSTER_NAME:-DefaultCluster}"
# The image sets ROCKETMQ_HOME (and starts in its bin directory).
MQADMIN="${ROCKETMQ_HOME:+$ROCKETMQ_HOME/bin/}mqadmin"
# The broker registers with the name server a few seconds after it starts: retry until it has.
ATTEMPTS=60
PAUSE_SECONDS=3

run_until_success() {
  what="$1"
  pattern="$2"
  shift 2
  i=1
  while [ "$i" -le "$ATTEMPTS" ]; do
    if out="$(sh "$MQADMIN" "$@" -n "$NAMESRV" 2>&1)" && printf '%s\n' "$out" | grep -q "$pattern"; then
      echo "ok: $what"
      return 0
    fi
    echo "waiting for the cluster ($what, attempt $i/$ATTEMPTS)"
    i=$((i + 1))
    sleep "$PAUSE_SECONDS"
  done
  printf '%s\n' "$out"
  echo "failed: $what" >&2
  exit 1
}

# topic NAME MESSAGE_TYPE (NORMAL | FIFO | DELAY | TRANSACTION): the proxy checks every send
# against the topic's message.type.
topic() {
  run_until_success "topic $1 ($2)" 'create topic to .* success' \
    updateTopic -c "$CLUSTER" -t "$1" -a "+message.type=$2"
}

# group NAME [mqadmin updateSubGroup options]
group() {
  name="$1"
  shift
  run_until_success "group $name${*:+ $*}" 'create subscription group to .* success' \
    updateSubGroup -c "$CLUSTER" -g "$name" "$@"
}

topic order-created TRANSACTION
topic payment-result FIFO
topic order-timeout DELAY
topic config-changed NORMAL
# The payment group's dead letters, readable (perm 6) so payment-service's watcher can subscribe
# before the first message lands there.
run_until_success "topic %DLQ%payment" 'create topic to .* success' \
  updateTopic -c "$CLUSTER" -t '%DLQ%payment' -p 6

# order-service applies payment results in order, per order id: a FIFO (orderly) group.
group order-payment-result -o true
# A charge that keeps failing goes to %DLQ%payment after 3 retries (the demo's setting).
group payment -r 3
group payment-dlq
group order-timeout
group notification-order-created
group notification-payment-result

echo "topics and groups ready on $CLUSTER"
