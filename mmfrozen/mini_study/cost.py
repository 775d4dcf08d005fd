"""Claim 1 (freezing makes training cheaper) measured so that the machine's load cannot decide it.

The fine-tuned and the frozen twin of one decoder are built from the study's configs, pointed at
the study's data, and their training steps are timed round-robin in one process by the cost
tool's measurement code (:mod:`mmfrozen.analysis.cost.measure`): a step of one twin, then a step
of the other, on the same batch of the study's training data. Whatever else runs on the machine
slows both alike. The measurement is repeated in rounds; each round gives a frozen / fine-tuned
ratio (and difference) of the median step times, and the rounds are the replicates of a paired
95% Student-t interval (:func:`mmfrozen.mini_study.stats.paired`).

Beside the time, what does not depend on it at all: each twin's trainable parameters, the bytes
of its optimizer state, the parameters that receive a gradient in a step and the FLOPs of a
training step (:mod:`mmfrozen.analysis.cost.flops`).

The twins are built without the upstream weights, as the cost tool builds every variant: the
cost of a step does not depend on the values of the weights.
"""
import copy
import os.path as osp
import statistics
import tempfile
from typing import Any, Dict, Iterator, List, Optional

import torch

from ..analysis.cost.flops import train_step_flops
from ..analysis.cost.measure import (Bench, CostRequest, optimizer_state_bytes, round_robin,
                                     summarise)
from ..analysis.cost.settings import training_batch_size, training_image_size
from ..datasets import ShapesDetection
from .design import RunSchedule
from .detectors import detection_config
from .stats import paired

#: Passed to the configs as the upstream checkpoint; never read (the measurement disables
#: pretrained loading before it builds a model).
_WEIGHTS_NOT_LOADED = '(not loaded: a step costs the same whatever the weights)'
_TWINS = ('ft', 'frozen')


def cost_claim(ft_config: str, frozen_config: str, data: ShapesDetection, rounds: int = 5,
               iters: int = 5, warmup: int = 2, device: str = 'cpu',
               threads: Optional[int] = None, seed: int = 0, flops: bool = True,
               batch_size: Optional[int] = None) -> Dict[str, Any]:
    """Time the twins' training steps round-robin in this process; their cost side by side.

    Args:
        ft_config / frozen_config: The twins' configs (``configs/mini_study/``).
        data: The study's detection data; the twins train on batches of its training split,
            drawn with the config's dataloader (each batch is stepped by both twins).
        rounds: Replicates of the paired interval (at least 2 for an interval).
        iters: Timed steps of each twin per round (their median is the round's step time).
        warmup: Steps of each twin at the start of every round that are not timed.
        device: ``'cpu'`` or ``'cuda'``.
        threads: torch CPU threads during the measurement (``None``: as they are); restored
            after it.
        seed: Seed of the weights and of the data order.
        flops: Also count the FLOPs of a training step of each twin (one trace each).
        batch_size: Images per step (``None``: the configs'), as the study's runs train.

    Returns:
        ``configs`` (the twins' config names), ``device``, ``threads``, ``batch_size``,
        ``rounds``, ``iters``, ``warmup``; ``steps_sec`` (per twin, per round, the timed steps'
        seconds) and ``sec_per_iter`` (per twin, per round, their median); ``ratio`` and
        ``difference_sec`` (frozen / fine-tuned and frozen minus fine-tuned, per round in
        ``per_round``, with ``mean``, ``std``, ``n`` and ``ci95`` over the rounds); ``twins``
        (per twin: ``trainable_params``, ``total_params``, ``optimizer_state_bytes``,
        ``params_with_grad``, ``tensors_with_grad``, ``train_flops``) and ``static_ratios``
        (frozen / fine-tuned of each of those).

    Raises:
        ValueError: rounds, iters or warmup out of range, or configs that are not a fine-tuned
            and a frozen twin, in this order.
    """
    if rounds < 1 or iters < 1 or warmup < 0:
        raise ValueError(f'need rounds >= 1, iters >= 1 and warmup >= 0; got {rounds}, {iters}, '
                         f'{warmup}')
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmfrozen_cost_claim', log_level='WARNING')  # as the cost tool's
    threads_before = torch.get_num_threads()
    benches: Dict[str, Bench] = {}
    try:
        with tempfile.TemporaryDirectory(prefix='mmfrozen_cost_claim_') as tmp:
            for twin, config in zip(_TWINS, (ft_config, frozen_config)):
                cfg = detection_config(config, data, _WEIGHTS_NOT_LOADED, osp.join(tmp, twin),
                                       RunSchedule(batch_size=batch_size), seed=seed)
                path = osp.join(tmp, f'{twin}.py')  # the cost tool measures a config file
                cfg.dump(path)
                bench = benches[twin] = Bench(CostRequest(
                    path, twin, batch_size=training_batch_size(cfg),
                    image_size=training_image_size(cfg), device=device, iters=1, warmup=0,
                    flops=False, seed=seed))
                if bench.mode != twin:
                    raise ValueError(f'{osp.basename(config)} is a {bench.mode} config; '
                                     'cost_claim takes the fine-tuned twin, then the frozen one')
        if threads is not None:
            torch.set_num_threads(threads)
        result = _measure(benches, _batches(benches['ft'].cfg, seed), rounds, iters, warmup,
                          flops)
    finally:
        torch.set_num_threads(threads_before)
    result['configs'] = {twin: osp.splitext(osp.basename(config))[0]
                         for twin, config in zip(_TWINS, (ft_config, frozen_config))}
    return result


def _batches(cfg, seed: int) -> Iterator[dict]:
    """Batches of the config's training dataloader, without end."""
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    loader = Runner.build_dataloader(copy.deepcopy(cfg.train_dataloader), seed=seed)
    while True:
        yield from loader


def _measure(benches: Dict[str, Bench], batches: Iterator[dict], rounds: int, iters: int,
             warmup: int, flops: bool) -> Dict[str, Any]:
    """The rounds, then the twins' costs that do not depend on time (see :func:`cost_claim`)."""
    steps: Dict[str, List[List[float]]] = {twin: [] for twin in _TWINS}
    per_round = warmup + iters
    for r in range(rounds):
        round_batches = [next(batches) for _ in range(per_round)]  # read before the timing
        times = round_robin([benches[t] for t in _TWINS],
                            range(r * per_round, (r + 1) * per_round), warmup, round_batches)
        for twin in _TWINS:
            steps[twin].append(summarise(times[twin])['sec_per_iter_all'])
    sec = {twin: [statistics.median(s) for s in steps[twin]] for twin in _TWINS}
    ratios = [f / t for f, t in zip(sec['frozen'], sec['ft'])]
    differences = [f - t for f, t in zip(sec['frozen'], sec['ft'])]
    extra = next(batches)
    twins = {twin: _static_costs(benches[twin], copy.deepcopy(extra), rounds * per_round, flops)
             for twin in _TWINS}
    request = benches['ft'].request
    return dict(
        device=request.device, threads=torch.get_num_threads(), batch_size=len(
            extra['inputs']), rounds=rounds, iters=iters, warmup=warmup, steps_sec=steps,
        sec_per_iter=sec, ratio=dict(per_round=ratios, **paired(ratios).to_dict()),
        difference_sec=dict(per_round=differences, **paired(differences).to_dict()),
        twins=twins, static_ratios={
            k: (None if twins['frozen'][k] is None or not twins['ft'][k] else
                twins['frozen'][k] / twins['ft'][k]) for k in twins['ft']})


def _static_costs(bench: Bench, data: dict, i: int, flops: bool) -> Dict[str, Any]:
    """Parameters, optimizer state and FLOPs of the bench's twin; the parameters that receive a
    gradient are those a further (untimed) training step on ``data`` accumulates one into."""
    model = bench.model
    received = set()
    handles = [p.register_post_accumulate_grad_hook(lambda p: received.add(id(p)))
               for p in model.parameters() if p.requires_grad]
    try:
        bench.step(i, copy.deepcopy(data))
    finally:
        for handle in handles:
            handle.remove()
    with_grad = [p for p in model.parameters() if id(p) in received]
    train_flops = None
    if flops:
        train_flops = train_step_flops(model, model.data_preprocessor(data, True))['total']
    return dict(trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
                total_params=sum(p.numel() for p in model.parameters()),
                optimizer_state_bytes=optimizer_state_bytes(bench.optim_wrapper),
                params_with_grad=sum(p.numel() for p in with_grad),
                tensors_with_grad=len(with_grad), train_flops=train_flops)
