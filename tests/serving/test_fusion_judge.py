"""The judge of the popular-now weight: it moves to the weight whose lists held the users' next
items, stays where the evidence does not clearly say otherwise, and judges each answer once."""

import numpy as np

from serving.fusion_judge import FusionJudge

MODEL = [f"m{n}" for n in range(20)]
NOW = [f"t{n}" for n in range(20)]


def _stream(judge: FusionJudge, next_item, n: int = 600, weight_of=lambda judge: judge.current(0.0)) -> None:
    rng = np.random.default_rng(1)
    for u in range(n):
        judge.served(f"u{u}", MODEL, NOW, 10, weight_of(judge))
        judge.observe([(f"u{u}", next_item(rng))])


def test_it_moves_to_fusion_when_the_users_next_items_are_what_is_trending():
    judge = FusionJudge()
    _stream(judge, lambda rng: f"t{rng.integers(0, 8)}" if rng.random() < 0.5 else f"m{rng.integers(0, 10)}")
    assert judge.current(prior=0.0) > 0


def test_it_keeps_the_models_list_when_users_follow_the_model():
    judge = FusionJudge()
    _stream(judge, lambda rng: f"m{rng.integers(5, 10)}" if rng.random() < 0.5 else "elsewhere")
    assert judge.current(prior=0.0) == 0.0
    learned = FusionJudge()  # a model whose trainer chose fusion, on a stream where it does not pay
    _stream(learned, lambda rng: f"m{rng.integers(5, 10)}", weight_of=lambda judge: judge.current(0.65))
    assert learned.current(prior=0.65) < 0.65


def test_no_evidence_keeps_the_prior_and_an_answer_is_judged_once():
    judge = FusionJudge()
    _stream(judge, lambda rng: "elsewhere")
    assert judge.current(prior=0.35) == 0.35 and judge.judged == 600
    judge.served("again", MODEL, NOW, 10, 0.0)
    judge.observe([("again", "t0"), ("again", "t1"), ("nobody-asked", "t0")])
    assert judge.judged == 601
