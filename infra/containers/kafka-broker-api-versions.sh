#!/bin/sh
# The stand-in's kafka-broker-api-versions.sh: the same tool class as Apache Kafka's script.
exec java -Xmx128m -cp '/opt/kafka/libs/*' -Dlog4j2.level=error org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
