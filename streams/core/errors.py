"""One exception tree for the project: catch :class:`StreamrecError` to catch ours."""


class StreamrecError(Exception):
    """Root of every error streamrec raises on purpose."""


class ConfigError(StreamrecError):
    """A setting or a configuration file is missing or wrong."""


class InfraError(StreamrecError):
    """A local service (Kafka, Redis, MLflow) could not be started, reached or stopped."""


class InvalidEvent(StreamrecError):
    """A record does not satisfy its contract; the message names the field and the reason."""


class DeliveryError(StreamrecError):
    """The broker did not acknowledge some records."""
