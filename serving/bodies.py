"""Request and response bodies of the HTTP API. Field types and limits come from the message
contracts (:mod:`streams.core.contracts`), so HTTP and Kafka accept the same values."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictBool

from streams.core.contracts import Context, Id, JsonInt, RecommendationRequest, ScoredItem


class RecommendBody(BaseModel):
    model_config = {"extra": "forbid"}
    user_id: Id
    k: JsonInt = Field(10, ge=1, description="list length; at most STREAMREC_SERVE_MAX_K")
    context: Context = Field(default_factory=dict)
    exclude_seen: StrictBool = True
    exclude: list[Id] = Field(default_factory=list, max_length=1000)
    explain: StrictBool = False

    def request(self) -> RecommendationRequest:
        """The same request as one on the ``recommendation-requests`` topic."""
        return RecommendationRequest(
            user_id=self.user_id, k=self.k, context=self.context, exclude_seen=self.exclude_seen, explain=self.explain
        )


class RecommendResponse(BaseModel):
    recommendation_id: Id
    user_id: Id
    items: list[ScoredItem]
    model_name: str
    model_version: str
    variant: str | None = None
    fallback: bool
    fallback_reason: str | None = None
    cold_start: bool = Field(False, description="the user has no events in the online store yet")


class IngestResponse(BaseModel):
    accepted: int
    duplicates: int
    event_id: Id | None = None


class PromoteBody(BaseModel):
    model_config = {"extra": "forbid"}
    version: str = Field(min_length=1, max_length=32)


class RetrainBody(BaseModel):
    model_config = {"extra": "forbid"}
    model_name: Id = "ranker"
    reason: str = Field(min_length=1, max_length=2048)
    force: StrictBool = False
    dry_run: StrictBool = False
