#!/bin/sh
# apache/kafka's configuration rules, for the stand-in image: every KAFKA_* variable becomes a
# broker property (drop KAFKA_, lower case, ___ -> -, __ -> _, _ -> .); storage is formatted
# once with CLUSTER_ID (apache/kafka's default when unset); then the broker runs in the foreground.
set -eu
props=/opt/kafka/config/server.properties
: > "$props"
env | grep '^KAFKA_' | grep -v '^KAFKA_HEAP_OPTS=' | while IFS='=' read -r name value; do
  key=$(printf '%s' "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
  printf '%s=%s\n' "$key" "$value" >> "$props"
done
java_opts="${KAFKA_HEAP_OPTS:--Xmx1g -Xms256m} -Dkafka.logs.dir=/tmp -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties"
standalone=""
grep -q '^controller.quorum.voters=' "$props" || standalone="--standalone"
# shellcheck disable=SC2086
java $java_opts -cp '/opt/kafka/libs/*' kafka.tools.StorageTool format $standalone --ignore-formatted \
  -t "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$props"
# shellcheck disable=SC2086
exec java $java_opts -XX:+UseG1GC -Djava.awt.headless=true -cp '/opt/kafka/libs/*' kafka.Kafka "$props"
