"""Admin operations behind ``/models``, ``/models/{name}/promote|rollback``, ``/retrain`` and
``/drift``: the registry (MLflow), the retrain-requests topic and the learner's status."""

from __future__ import annotations

from streams.core.contracts import ModelUpdate, RetrainRequest
from streams.core.settings import Settings
from streams.stores.redis_client import RedisUnavailable
from streams.stores.registry_errors import registry_errors


class Admin:
    def __init__(self, settings: Settings, producer):
        self.settings, self.producer = settings, producer

    def _registry(self, name: str):
        from streams.stores.registry import Registry

        return Registry.for_settings(self.settings, name)

    def models(self, name: str) -> dict:
        with registry_errors(f"the versions of {name}"):
            registry = self._registry(name)
            versions = registry.client.search_model_versions(f"name = '{name}'")
            # search results carry no aliases in MLflow; the registered model holds them
            aliases: dict[str, list[str]] = {}
            for alias, version in (registry.client.get_registered_model(name).aliases or {}).items():
                aliases.setdefault(str(version), []).append(alias)
            return {
                "champion": registry.alias_version("champion"),
                "challenger": registry.alias_version("challenger"),
                "versions": [
                    {
                        "version": str(v.version),
                        "aliases": sorted(aliases.get(str(v.version), [])),
                        "promotion": v.tags.get("promotion"),
                        "trigger": v.tags.get("trigger"),
                        "reason": v.tags.get("reason"),
                    }
                    for v in sorted(versions, key=lambda v: int(v.version))
                ],
            }

    def promote(self, name: str, version: str, reason: str = "promoted by hand (API)") -> ModelUpdate:
        with registry_errors(f"{name} v{version}"):
            registry = self._registry(name)
            registry.client.get_model_version(name, version)  # LookupError when there is no such version
            update = registry.promote(version, {"manual": 1.0})[0]
            registry.tag(version, "promotion", reason)
        self.producer.send_and_wait(update)
        return update

    def rollback(self, name: str) -> ModelUpdate:
        with registry_errors(f"rolling back {name}"):
            update = self._registry(name).rollback()
        self.producer.send_and_wait(update)
        return update

    def retrain(self, request: RetrainRequest) -> tuple[int, int]:
        return self.producer.send_and_wait(request)

    def drift(self) -> dict:
        from streams.stores.learner_status import read_status

        try:
            return {"learner": read_status(self.settings)}
        except RedisUnavailable as error:  # say so, do not fail
            return {"learner": None, "error": f"learner status unavailable: {type(error).__name__}"}
