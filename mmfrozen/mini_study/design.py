"""The design of the mini-study: its world, data sizes, schedules and seeds, in one value.

Everything that decides what the study measures is here, fixed before it runs; the outcome does
not enter it. ``--data-seed`` draws another world of the same design (other images, another
assignment of classes to the rare, common and frequent buckets).
"""
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Dict, Optional, Tuple

from ..datasets import LongTail, ShapesWorld
from .stats import MIN_REPLICATES


@dataclass(frozen=True)
class RunSchedule:
    """What the study changes in a detector config's training, besides its data; None keeps
    the config's.

    Attributes:
        max_iters: Training iterations (the schedule's shape kept, see
            :func:`mmfrozen.config.edits.rescale_schedule`).
        val_interval: Iterations between validations.
        batch_size: Images per training iteration.
        score_thr: Detection score threshold at validation.
        backbone_lr_mult: Learning-rate multiplier of a trained backbone.
    """
    max_iters: Optional[int] = None
    val_interval: Optional[int] = None
    batch_size: Optional[int] = None
    score_thr: Optional[float] = None
    backbone_lr_mult: Optional[float] = None

    def __post_init__(self) -> None:
        # a 0 would not keep the config's value: an interval of 0 read as "the config's", a
        # batch of 0 failing in the dataloader of every run after the data and upstream stages
        for name in ('max_iters', 'val_interval', 'batch_size'):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f'{name} must be an integer >= 1 or None (the config\'s), got '
                                 f'{value!r}')
        for name in ('score_thr', 'backbone_lr_mult'):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f'{name} must be >= 0 or None (the config\'s), got {value!r}')


@dataclass(frozen=True)
class StudyDesign:
    """Sizes of the generated data and of the runs.

    Attributes:
        world: Classes and rendering knobs, shared by the upstream and downstream sets.
        cls_train_per_class / cls_val_per_class: Upstream images per class (balanced).
        cls_image_size: Side of the upstream images (px).
        long_tail: Downstream training-image counts per class (LVIS's buckets).
        det_val_per_class: Downstream validation images that contain each class.
        det_image_size: Side of the downstream images (px).
        det_min_visible: Fraction of an object that stays visible under later objects.
        upstream_iters / detector_iters: Training iterations; None keeps the configs'.
        detector_val_interval: Iterations between validations; None keeps the configs'.
        detector_batch_size: Images per detector training iteration; None keeps the configs'.
        score_thr: Detection score threshold at validation; None keeps the configs' (the quick
            design keeps every box, so a detector of 10 iterations still has some to evaluate).
        seeds: Training seeds of the headline variants (the smallest and the largest decoder).
        profile: The design's name (``default``, ``long``, ``quick``).
        worlds: Worlds (data seeds ``data_seed .. data_seed + worlds - 1``), each with its own
            data and upstream classifier; their runs are further replicates of every claim.
        variants: The variants a plain run trains (keys of :mod:`.variants`); empty: the twins at
            every capacity.
        backbone_lr_mult: Learning-rate multiplier of a fine-tuned backbone; None keeps the
            configs' (0.1x the decoder's).
        converge_tol: A run has converged when its last two validations differ by at most this
            much box AP (reported per run; fixed before the numbers).
        cost_rounds / cost_iters: Claim 1's round-robin timing: rounds, and timed steps of each
            twin per round.
        min_replicates: The rule's minimum number of replicates for a verdict.
    """
    world: ShapesWorld = field(default_factory=ShapesWorld)
    cls_train_per_class: int = 128
    cls_val_per_class: int = 16
    cls_image_size: int = 64
    long_tail: LongTail = field(default_factory=LongTail)
    det_val_per_class: int = 12
    det_image_size: int = 128
    det_min_visible: float = 0.85
    upstream_iters: Optional[int] = None
    detector_iters: Optional[int] = None
    detector_val_interval: Optional[int] = None
    detector_batch_size: Optional[int] = None
    score_thr: Optional[float] = None
    seeds: int = 3
    profile: str = 'default'
    worlds: int = 1
    variants: Tuple[str, ...] = ()
    backbone_lr_mult: Optional[float] = None
    converge_tol: float = 0.5
    cost_rounds: int = 5
    cost_iters: int = 4
    min_replicates: int = MIN_REPLICATES

    def __post_init__(self) -> None:
        if self.long_tail.num_classes != self.world.num_classes:
            raise ValueError(f'the long tail has {self.long_tail.num_classes} classes, the world '
                             f'{self.world.num_classes}')
        if self.seeds < 1:
            raise ValueError(f'seeds must be >= 1, got {self.seeds}')
        if self.worlds < 1:
            raise ValueError(f'worlds must be >= 1, got {self.worlds}')
        if self.cost_rounds < 1 or self.cost_iters < 1:
            raise ValueError(f'cost_rounds and cost_iters must be >= 1, got '
                             f'{self.cost_rounds}, {self.cost_iters}')
        _ = self.run_schedule  # refuses a schedule no run could train with, before any stage

    @property
    def replicates(self) -> int:
        """Replicates of claims 2 and 3: training seeds x worlds."""
        return self.seeds * self.worlds

    @property
    def run_schedule(self) -> RunSchedule:
        """What every detector run of this design changes in its config."""
        return RunSchedule(self.detector_iters, self.detector_val_interval,
                           self.detector_batch_size, self.score_thr, self.backbone_lr_mult)

    def data_dict(self) -> Dict[str, Any]:
        """The fields that decide the generated data (for cache keys and reports)."""
        d = {k: v for k, v in asdict(self).items()
             if k.startswith(('cls_', 'det_')) or k in ('long_tail', )}
        d['world'] = self.world.to_dict()
        return d

    def with_(self, **changes) -> 'StudyDesign':
        return replace(self, **changes)


#: The default study (``make demo``): 32 classes, 4096 + 512 upstream images of 64 px, about 680
#: long-tailed detection images of 128 px (9 rare, 12 common, 11 frequent classes); every detector
#: trains as its config says (450 iterations of 8 images, about 5 epochs).
FULL = StudyDesign()

#: The paper's regime, opt-in (``--profile long``, about 80 minutes on 2 cores): an upstream far
#: richer than the downstream (640 labelled images per class, 20,480 in all: 30x the detection
#: set's images, where ImageNet has about 11x COCO's), every detector trained 800 iterations
#: (about 19 epochs) with the fine-tuned backbone at the decoder's learning rate as in the paper,
#: a validation split three times larger (36 images per class), two worlds and three training
#: seeds (6 replicates), the headline capacities only. Its detectors train on batches of 16 images
#: (the configs' 8 doubled, as in its published run); the warm-up is the configs' 10%, 80
#: iterations (78 in the published run, when the configs' 22 of 225 iterations were scaled).
LONG = FULL.with_(
    profile='long', cls_train_per_class=640, upstream_iters=1500, det_val_per_class=36,
    detector_iters=800, detector_val_interval=100, detector_batch_size=16, worlds=2,
    backbone_lr_mult=1.0,
    variants=('ft-fpn', 'frozen-fpn', 'ft-bifpn-r3', 'frozen-bifpn-r3'), cost_rounds=6)

#: The same pipeline, tiny, for the test suite: 8 classes, 32-px upstream and 64-px downstream
#: images, a few iterations. It checks that everything works and measures nothing.
QUICK = StudyDesign(
    world=ShapesWorld(shapes=('circle', 'square', 'star', 'ring'), textures=('solid', 'striped')),
    cls_train_per_class=8, cls_val_per_class=4, cls_image_size=32,
    long_tail=LongTail(rare=3, common=3, frequent=2, rare_range=(1, 10), common_range=(11, 20),
                       frequent_range=(101, 104)),
    det_val_per_class=3, det_image_size=64, upstream_iters=20, detector_iters=10,
    detector_val_interval=2, score_thr=0.0, seeds=2, profile='quick', cost_rounds=3,
    cost_iters=1)

PROFILES: Dict[str, StudyDesign] = {'default': FULL, 'long': LONG, 'quick': QUICK}
