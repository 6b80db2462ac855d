"""The options every study shares, in one object checked once: :class:`StudyOptions`.

Each study (:func:`~barenet.experiments.experiment_with_architectures`,
:func:`~barenet.experiments.experiment_with_learning_rates`,
:func:`~barenet.experiments.analyze_training_dynamics`,
:func:`~barenet.experiments.test_robustness`) takes these options as keywords (``epochs=3``,
``seeds=2``, ``workers=4``...) or as one ``options=StudyOptions(...)`` object, and builds its
jobs and runs them through it.
"""

from dataclasses import dataclass, replace

from barenet import validation as check
from barenet.experiments.runner import run_jobs
from barenet.experiments.trial import data_options, dataset_spec, seed_list, seeded_jobs
from barenet.specs import describe_optimizer


@dataclass
class StudyOptions:
    """How a study trains its networks, on which data, and how it runs the trainings.

    Training: every run trains for ``epochs`` epochs on batches of ``batch_size``;
    ``seeds`` is a count ``n`` (seeds ``0 .. n-1``) or a list of seeds, and each configuration
    is trained once per seed.

    Data: ``dataset`` names the data set (one of :data:`barenet.DATASETS`): the networks get as
    many inputs as its images have pixels and one output per class. ``train_size``,
    ``val_size``, ``test_size`` take the first images of each part of its standard split (all
    when None). ``data_dir`` is where its files are (see :func:`barenet.data.data_home`).

    Running: ``workers``, ``scheduler``, ``results_path``, ``progress``: how the runs are
    carried out, see :func:`~barenet.experiments.runner.run_jobs`.

    Every value is checked when the object is made, so a bad one fails before any training.
    """

    epochs: int = 10
    batch_size: int = 64
    seeds: object = 1
    train_size: int | None = None
    val_size: int | None = None
    test_size: int | None = None
    data_dir: object = None
    dataset: str = "mnist"
    workers: int = 1
    scheduler: object = None
    results_path: object = None
    progress: bool = True

    def __post_init__(self):
        self.epochs = check.positive_int("epochs", self.epochs)
        self.batch_size = check.positive_int("batch_size", self.batch_size)
        self.seeds = seed_list(self.seeds)
        data = data_options(
            self.train_size, self.val_size, self.test_size, self.data_dir, self.dataset
        )
        self.train_size, self.val_size = data["train_size"], data["val_size"]
        self.test_size, self.data_dir = data["test_size"], data["data_dir"]
        self.workers = check.positive_int("workers", self.workers)

    @classmethod
    def of(cls, options=None, **keywords):
        """``options`` (a :class:`StudyOptions`, or None for the defaults) with ``keywords``
        replacing some of its fields: how each study reads its arguments."""
        return cls(**keywords) if options is None else replace(options, **keywords)

    @property
    def data(self):
        """The data of every job, as plain values: the data set's name, folder and sizes."""
        return data_options(
            self.train_size, self.val_size, self.test_size, self.data_dir, self.dataset
        )

    @property
    def spec(self):
        """The :func:`~barenet.experiments.trial.dataset_spec` of the data set."""
        return dataset_spec(self.dataset)

    def training(self, **extra):
        """The keyword arguments of ``train`` that every run shares, plus ``extra``."""
        return {"epochs": self.epochs, "batch_size": self.batch_size, **extra}

    def jobs(self, fn, configs, training=None, **shared):
        """One job per ``(tags, network config)`` of ``configs`` and seed, calling ``fn`` with
        the network, the seed, ``training`` (default :meth:`training`), the data and ``shared``
        (see :func:`~barenet.experiments.trial.seeded_jobs`)."""
        training = self.training() if training is None else training
        return seeded_jobs(fn, configs, self.seeds, training=training, data=self.data, **shared)

    def run(self, jobs, desc, expand=None):
        """Run ``jobs`` as these options say (:func:`~barenet.experiments.runner.run_jobs`)."""
        return run_jobs(
            jobs,
            workers=self.workers,
            scheduler=self.scheduler,
            results_path=self.results_path,
            progress=self.progress,
            desc=desc,
            expand=expand,
        )


# What each study does, for its own `barenet experiment STUDY --help`.
STUDY_HELP = {
    "architectures": "Train networks of several shapes (fully connected widths, or lines of "
    "layers, CNNs included) and compare parameter counts, accuracy, time and curves.",
    "learning-rates": "Train a grid of learning rates for each optimizer, with full curves, and "
    "run a range test per optimizer (the rate grows every batch) that suggests a rate.",
    "dynamics": "Follow each layer through training: gradient and weight norms, update-to-weight "
    "ratios, dead ReLU units, activation statistics, with vanishing or exploding gradients "
    "named in words.",
    "robustness": "Score trained networks (or a saved --model) on damaged test images: Gaussian "
    "and salt-and-pepper noise, occlusion, shifts, rotations, the FGSM attack.",
}
# The studies' own defaults, the quick settings of the first experiment scripts, where they
# differ from `barenet train`'s: said in each study's help.
STUDY_DEFAULTS = {"epochs": 10, "batch_size": 64, "optimizer": "sgd", "hidden": [128, 64]}


STUDY_EXAMPLES = {
    "architectures": "barenet experiment architectures --architecture 256 --architecture 128 64 "
    "--layers 'conv8x3 relu pool2 flatten dense32 relu' --epochs 5",
    "learning-rates": "barenet experiment learning-rates --optimizers sgd adam --epochs 3",
    "dynamics": "barenet experiment dynamics --hidden 128 64 --activation sigmoid --epochs 3",
    "robustness": "barenet experiment robustness --model barenet-model.npz",
}

STUDY_TITLES = {
    "architectures": "Architecture comparison",
    "learning-rates": "Learning rates: grid and range test",
    "dynamics": "Training dynamics",
    "robustness": "Robustness to damaged images",
}


def defaults_note(study, train):
    """The defaults of ``study`` that differ from ``barenet train``'s (``train``, its defaults
    by option name), in a sentence for the study's help."""
    names = {"epochs": "--epochs", "batch_size": "--batch-size", "optimizer": "--optimizer",
             "hidden": "--hidden"}  # fmt: skip
    used = {"architectures": ("epochs", "batch_size", "optimizer"),
            "learning-rates": ("epochs", "batch_size", "hidden"),
            "dynamics": ("epochs", "batch_size", "optimizer", "hidden"),
            "robustness": ("epochs", "batch_size", "optimizer", "hidden")}[study]  # fmt: skip
    words = [
        f"{names[k]} {_words(STUDY_DEFAULTS[k])} (train: {_words(train[k])})"
        for k in used
        if STUDY_DEFAULTS[k] != train[k]
    ]
    return (
        "Its defaults are quick ones, those of the first experiment scripts, not barenet train's: "
        + ", ".join(words)
        + "; no schedule and no augmentation."
    )


def _words(value):
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def run_settings(args, common):
    """What a run of a study was given (its parsed options ``args`` and the ``common`` keywords
    of every study), in words, for the head of its report."""
    sizes = [f"{common[k] or 'all'} {k.removesuffix('_size')}" for k in
             ("train_size", "val_size", "test_size")]  # fmt: skip
    numbers = {
        "data set": f"{common['dataset']} ({', '.join(sizes)} images)",
        "training": f"{common['epochs']} epoch{'s' * (common['epochs'] != 1)}, batches of "
        f"{common['batch_size']}",
        "seeds": f"{common['seeds']} per configuration",
    }
    optimizer = getattr(args, "optimizer", None) or STUDY_DEFAULTS["optimizer"]
    if hasattr(args, "learning_rate"):
        rate = args.learning_rate if args.learning_rate is not None else 0.1
        numbers["optimizer"] = describe_optimizer({"name": optimizer, "learning_rate": rate})
    for name in ("optimizers", "learning_rates", "hidden", "activation", "model"):
        value = getattr(args, name, None)
        if value is not None:
            shown = " ".join(map(str, value)) if isinstance(value, list) else str(value)
            numbers[name.replace("_", " ")] = shown
    if getattr(args, "architectures", None):
        numbers["networks"] = " | ".join(
            a if isinstance(a, str) else " ".join(map(str, a)) for a in args.architectures
        )
    return numbers
