"""The live experiment that ends a demo: the previous champion against the newest retrained
model on live traffic, with simulated users who look at each served list and may click."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from streams.core.contracts import Interaction
from streams.demo.results import DemoConfig, DemoResult
from streams.kafka.producer import EventProducer
from streams.sources.synthetic import SimulationFacts


def tastes_after_shift(messages: list, categories: dict[str, list[str]], top: int = 2) -> dict[str, set[str]]:
    """Each user's ``top`` categories in the given (post-shift) events: what they like now.

    >>> e = [Interaction(user_id="u", item_id=i, event_type="click") for i in ("a", "a", "b", "c")]
    >>> tastes_after_shift(e, {"a": ["c1"], "b": ["c2"], "c": ["c2"]}, top=1)
    {'u': {'c1'}}
    """
    counts: dict[str, dict[str, int]] = {}
    for m in messages:
        if isinstance(m, Interaction):
            for c in categories.get(m.item_id, []):
                counts.setdefault(m.user_id, {})[c] = counts.setdefault(m.user_id, {}).get(c, 0) + 1
    return {u: {c for c, _ in sorted(cs.items(), key=lambda kv: -kv[1])[:top]} for u, cs in counts.items()}


class SimulatedUsers:
    """Who takes part in the live experiment and how they react to a served list: each looks
    down the list, reaching the item at position r (0-based) with probability 1 / (r + 1)
    (position bias: the top of a list gets most of the attention), and clicks the first item
    they reach that tempts them (``chance(user, item)``), or none."""

    def __init__(self, users: list[str], chance: Callable[[str, str], float], rule: str):
        self.users, self.chance, self.rule = users, chance, rule

    def click(self, user: str, items: list[str], rng) -> str | None:
        """The item clicked (a cascade: top-down, one click at most), or None.

        >>> users = SimulatedUsers(["u"], lambda u, i: 1.0 if i == "a" else 0.0, "test")
        >>> import random
        >>> users.click("u", ["a", "b", "c"], random.Random(0)), users.click("u", ["b"], random.Random(0))
        ('a', None)
        """
        for position, item in enumerate(items):
            if rng.random() < self.chance(user, item) / (position + 1):
                return item
        return None

    def click_chance(self, user: str, items: list[str]) -> float:
        """The chance that :meth:`click` clicks something in ``items``: a list's expected
        conversion, free of the noise of the click itself.

        >>> SimulatedUsers(["u"], lambda u, i: 0.5, "test").click_chance("u", ["a", "b"])
        0.625
        """
        miss = 1.0
        for position, item in enumerate(items):
            miss *= 1 - self.chance(user, item) / (position + 1)
        return 1 - miss


def visitors(after_shift: list) -> list[str]:
    """Who asks for recommendations during the experiment: the users active in the new regime, each as
    often as they had events in it (live traffic comes from the users who visit, in proportion to
    how much they do, not from every user ever created).

    >>> from streams.core.contracts import Item
    >>> visitors([Interaction(user_id=u, item_id="i", event_type="click") for u in ("a", "b", "a")] + [Item(item_id="i")])
    ['a', 'b', 'a']
    """
    return [m.user_id for m in after_shift if isinstance(m, Interaction)]


def generator_users(facts: SimulationFacts, after_shift: list) -> SimulatedUsers:
    """The synthetic stream's own users: they click an item they look at with the generator's
    probability for their current (post-shift) tastes (:func:`~streams.sources.synthetic.click_probability`),
    the same rule that produced the stream the models learned from."""
    from streams.sources.synthetic import click_probability

    def chance(user: str, item: str) -> float:
        category = facts.item_category.get(item)
        return 0.0 if category is None else click_probability(facts.tastes[user], category)

    return SimulatedUsers(visitors(after_shift), chance, "the generator's click rule on the users' current tastes")


def category_users(after_shift: list, result: DemoResult) -> SimulatedUsers:
    """For a dataset (no generator): a user likes an item in one of their two favourite
    categories after the shift, looked at with probability 1/2."""
    tastes = tastes_after_shift(after_shift, result.item_categories)

    def chance(user: str, item: str) -> float:
        return 0.5 if set(result.item_categories.get(item, [])) & tastes[user] else 0.0

    return SimulatedUsers(
        visitors(after_shift), chance, "an item of one of the user's two top categories after the shift"
    )


def champion_first(result: DemoResult) -> list[dict]:
    """The experiment's variants, the model served now first: it is the control, and the other
    one replaces it only by winning (a retrain the gate promoted can lose its place again).

    >>> champion_first(DemoResult(first_version="1", retrained_version="3", final_version="1"))
    [{'name': 'previous', 'model': '1'}, {'name': 'new', 'model': '3'}]
    >>> [v["name"] for v in champion_first(DemoResult(first_version="1", retrained_version="2", final_version="2"))]
    ['new', 'previous']
    """
    variants = [
        {"name": "previous", "model": str(result.first_version)},
        {"name": "new", "model": str(result.retrained_version)},
    ]
    return variants[::-1] if result.final_version == result.retrained_version else variants


def run_experiment(
    http: httpx.Client,
    api: str,
    producer: EventProducer,
    simulated: SimulatedUsers,
    result: DemoResult,
    config: DemoConfig,
    block: int = 200,
) -> dict:
    """The previous champion against the new model on live traffic (Thompson sampling, at least
    10 % of traffic on each), deciding which one serves: simulated users look at each served list
    and may click; the clicks go to ``interactions`` with the list's recommendation id, the API's
    attribution counts them, and its controller promotes the challenger when it wins at a look
    (or ends the experiment without a winner at the horizon: the champion stays). Requests stop when it has decided,
    or after ``config.experiment_requests``."""
    import random

    rng = random.Random(config.seed)
    created = http.post(
        f"{api}/experiments",
        json={
            "name": f"v{result.first_version} vs v{result.retrained_version}",
            "policy": "thompson",
            "min_impressions": config.experiment_min_impressions,
            "auto_promote": True,
            "variants": champion_first(result),
        },
    ).json()
    experiment_id = created["experiment_id"]
    http.post(f"{api}/experiments/{experiment_id}/start").raise_for_status()
    shares, sent = [], 0
    expected: dict[str, list[float]] = {}  # variant -> each served list's click chance
    while sent < config.experiment_requests and _status(http, api, experiment_id) == "running":
        served = []
        size = min(block, config.experiment_requests - sent)
        for _ in range(size):
            user = rng.choice(simulated.users)
            body = http.post(f"{api}/recommend", json={"user_id": user, "k": 5}).json()
            if body.get("variant") is None:
                continue  # the experiment ended between two requests
            served.append(body["variant"])
            items = [i["item_id"] for i in body.get("items", [])]
            expected.setdefault(body["variant"], []).append(simulated.click_chance(user, items))
            clicked = simulated.click(user, items, rng)
            if clicked is not None:
                producer.send(
                    Interaction(
                        user_id=user, item_id=clicked, event_type="click", recommendation_id=body["recommendation_id"]
                    )
                )
        producer.flush()
        sent += size
        shares.append({"requests": sent, "new_share": served.count("new") / max(len(served), 1)})
        time.sleep(0.5)  # the attribution stream and the allocation catch up
    if _status(http, api, experiment_id) == "running":
        time.sleep(3.0)  # the last clicks are attributed
    results = http.get(f"{api}/experiments/{experiment_id}/results").json()
    if results["experiment"]["status"] == "running":
        http.post(f"{api}/experiments/{experiment_id}/stop")
    return {
        "experiment_id": experiment_id,
        "users": simulated.rule,
        "variants": results.get("variants", []),
        "status": results["experiment"]["status"],
        "outcome": results["experiment"].get("outcome"),
        "winner": results["experiment"].get("winner"),
        "winner_version": next(
            (v["model"] for v in results.get("variants", []) if v["variant"] == results["experiment"].get("winner")),
            None,
        ),
        "allocation": shares,
        "expected_conversion": {v: sum(c) / len(c) for v, c in expected.items()},
    }


def _status(http: httpx.Client, api: str, experiment_id: str) -> str:
    return http.get(f"{api}/experiments/{experiment_id}").json()["status"]
