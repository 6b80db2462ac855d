"""``barenet experiment STUDY``: run a study of many trainings.

:func:`add_commands` registers it, one sub-parser per study with the options every study takes
and its own (an option of another study is refused, naming it). Tables go to stdout, progress
to stderr; results (JSON), figures (PNG) and ``report.html`` to the output folder.
"""

import argparse
import json
import sys
import textwrap
from pathlib import Path

from barenet.cli.parsing import (
    EXIT_FAILURE,
    FOREIGN_OPTIONS,
    NON_NEGATIVE,
    POSITIVE,
    TRAIN_DEFAULTS,
    HelpFormatter,
    add_command,
    data_dir_option,
    dataset_option,
    int_at_least,
)
from barenet.errors import BarenetError
from barenet.experiments import (
    DEFAULT_ARCHITECTURES,
    PERTURBATIONS,
    analyze_training_dynamics,
    architecture_table,
    diagnose_dynamics,
    dynamics_table,
    experiment_with_architectures,
    experiment_with_learning_rates,
    learning_rate_range_test,
    learning_rate_table,
    rate_grid,
    robustness_table,
    test_robustness,
)
from barenet.experiments.options import (
    STUDY_EXAMPLES,
    STUDY_HELP,
    STUDY_TITLES,
    defaults_note,
    run_settings,
)
from barenet.experiments.trial import architecture_name, dataset_spec
from barenet.files.archive import atomic_write_bytes
from barenet.network import load_model
from barenet.nn.activations import ACTIVATIONS
from barenet.optim.optimizers import OPTIMIZERS


def add_commands(commands):
    """Add ``experiment`` to the subcommands of the ``barenet`` parser."""
    _add_experiment(commands)


def experiment_command(args):
    """Run a study on a data set (MNIST unless --dataset names another) and print its summary
    table: compare architectures, learning rates (a grid per optimizer and a range test), the
    training dynamics of each layer, or the robustness of trained networks to damaged images
    (noise, occlusion, shifts, rotations, the FGSM attack). The networks get as many inputs as
    the data set's images have pixels and one output per class. Every configuration runs once
    per seed. The output folder receives the results as JSON (rewritten as each run finishes,
    so an interrupted study keeps them), the figures as PNG and report.html with everything in
    one file. Runs go in parallel with --workers, or on a Dask cluster with --scheduler."""
    args.dataset = _dataset(args)
    out = Path(args.output_dir or Path("outputs") / args.study)
    if out.exists() and not out.is_dir():
        raise BarenetError(f"-o {out}: is a file; name a folder for the results and figures")
    out.mkdir(parents=True, exist_ok=True)  # an output folder is created, as the help says
    common = {
        "epochs": args.epochs,
        "seeds": args.seeds,
        "batch_size": args.batch_size,
        "train_size": args.train_size,
        "val_size": args.val_size,
        "test_size": args.test_size,
        "data_dir": args.data_dir,
        "dataset": args.dataset,
        "workers": args.workers,
        "scheduler": args.scheduler,
        "results_path": out / f"{args.study.replace('-', '_')}.json",
        "progress": not args.quiet,
    }
    rows, table, figures, notes = STUDIES[args.study](args, common, out)
    print(table)
    for note in notes:
        print(note)
    from barenet.viz.report import write_report  # matplotlib only for the commands that draw

    section = {"heading": "Summary", "table": table, "text": notes, "figures": figures}
    settings = {"heading": "Settings of this run", "numbers": run_settings(args, common)}
    report = write_report(out / "report.html", STUDY_TITLES[args.study], [settings, section])
    print(f"results, figures and {report.name} saved in {out}")
    failed = sum("error" in row for row in rows)
    if failed:
        print(
            f"barenet: {failed} run(s) failed; see 'error' in {common['results_path']}",
            file=sys.stderr,
        )
        return EXIT_FAILURE
    return 0


def _dataset(args):
    """--dataset if given, else the data set the --model to score was trained on, else MNIST."""
    if args.dataset is None and getattr(args, "model", None):
        return load_model(args.model).training_info.dataset or "mnist"
    return args.dataset or "mnist"


def _architectures(args, common, out):
    rows = experiment_with_architectures(
        args.architectures or DEFAULT_ARCHITECTURES,
        learning_rate=args.learning_rate or 0.1,
        optimizer=args.optimizer or "sgd",
        **common,
    )
    from barenet.viz.figures import plot_architectures

    figures = [plot_architectures(rows, out / "architectures.png")]
    return rows, architecture_table(rows), figures, []


def _learning_rates(args, common, out):
    grid = rate_grid(args.optimizers, args.learning_rates)
    hidden = args.hidden or [128, 64]
    rows = experiment_with_learning_rates(grid, hidden_sizes=hidden, **common)
    tests = [
        learning_rate_range_test(
            optimizer=name,
            hidden_sizes=hidden,
            batch_size=args.batch_size,
            train_size=args.train_size,
            data_dir=args.data_dir,
            dataset=args.dataset,
        )
        for name in grid
    ]
    atomic_write_bytes(out / "range_test.json", json.dumps(tests, indent=1).encode("utf-8"))
    notes = [
        f"range test, {t['optimizer']}: lowest loss at rate {t['min_loss_learning_rate']:.3g}, "
        f"suggested rate {t['suggested_learning_rate']:.3g}"
        for t in tests
    ]
    from barenet.viz.figures import plot_learning_rates, plot_range_test

    figures = [
        plot_learning_rates(rows, out / "learning_rates.png"),
        plot_range_test(tests, out / "range_test.png"),
    ]
    return rows, learning_rate_table(rows), figures, notes


def _dynamics(args, common, out):
    networks = None
    if args.hidden or args.activation:
        hidden, activation = args.hidden or [128, 64], args.activation or "relu"
        name = f"{activation} {architecture_name(hidden, dataset_spec(args.dataset))}"
        networks = {name: {"hidden_sizes": hidden, "activation": activation}}
    rows = analyze_training_dynamics(
        networks,
        learning_rate=args.learning_rate or 0.1,
        optimizer=args.optimizer or "sgd",
        **common,
    )
    from barenet.viz.figures import plot_dynamics

    figures = [plot_dynamics(rows, out / "dynamics.png")]
    return rows, dynamics_table(rows), figures, diagnose_dynamics(rows)


def _robustness(args, common, out):
    if args.model:
        trains = {"--lr": args.learning_rate, "--optimizer": args.optimizer,
                  "--hidden": args.hidden, "--noise-training": args.noise_training}  # fmt: skip
        given = [option for option, value in trains.items() if value is not None]
        if given:
            raise BarenetError(
                f"{', '.join(given)} shape(s) the networks the study trains; with --model it "
                "trains none: leave them out, or drop --model"
            )
        rows = test_robustness(
            args.model,
            perturbations=args.perturbations,
            test_size=args.test_size,
            data_dir=args.data_dir,
            dataset=args.dataset,
        )
        # No jobs run, so nothing wrote the results file as the runs finished: write it now.
        text = json.dumps(rows, indent=1).encode("utf-8")
        atomic_write_bytes(common["results_path"], text)
    else:
        rows = test_robustness(
            perturbations=args.perturbations,
            noise_training=args.noise_training,
            hidden_sizes=args.hidden or [128, 64],
            learning_rate=args.learning_rate or 0.1,
            optimizer=args.optimizer or "sgd",
            **common,
        )
    from barenet.viz.figures import plot_robustness

    figures = [plot_robustness(rows, out / "robustness.png")]
    return rows, robustness_table(rows), figures, []


STUDIES = {
    "architectures": _architectures,
    "learning-rates": _learning_rates,
    "dynamics": _dynamics,
    "robustness": _robustness,
}


def _add_experiment(commands):
    sub = add_command(
        commands,
        experiment_command,
        "run a study: architectures, learning rates, dynamics, robustness",
        "barenet experiment architectures --epochs 5 --seeds 2 --workers 2",
    )
    add_study_parsers(sub, STUDY_TITLES)


OPTION_STUDIES = {}  # option string -> the studies that take it


def _runs_options(sub, study):
    count = int_at_least(1)
    add = sub.add_argument_group("the runs").add_argument
    add("--epochs", type=count, default=10, metavar="N", help="epochs per run")
    add("--seeds", type=count, default=1, metavar="N", help="runs per configuration")
    add("--batch-size", type=count, default=64, metavar="N", help="images per step")
    add("--train-size", type=count, metavar="N", help="first N training images (default: all)")
    add("--val-size", type=count, metavar="N", help="first N validation images (default: all)")
    add("--test-size", type=count, metavar="N", help="first N test images (default: all)")
    dataset_option(
        sub,
        None,
        "the images to train and test on (default: mnist"
        + ("; with --model, the data set it was trained on)" if study == "robustness" else ")"),
    )
    data_dir_option(sub)


def _how_to_run_options(sub):
    count = int_at_least(1)
    add = sub.add_argument_group("how to run").add_argument
    add("--workers", type=count, default=1, metavar="N", help="trainings at once, in processes")
    add(
        "--scheduler",
        metavar="ADDRESS",
        help="run on this Dask scheduler's cluster, tcp://HOST:PORT (needs barenet[dask])",
    )
    add(
        "--output-dir",
        "-o",
        metavar="DIR",
        help="for results and figures, created if missing (default: outputs/STUDY)",
    )
    add("--quiet", "-q", action="store_true", help="no progress bar over the runs")


def _common_usage():
    """The usage line of the options every study takes, for ``barenet experiment --help``."""
    parser = argparse.ArgumentParser(prog="", add_help=False)
    _runs_options(parser, "")
    _how_to_run_options(parser)
    return parser.format_usage().removeprefix("usage: ").strip()


def _training_options(add, hidden=True, optimizer=True, rate=True):
    count = int_at_least(1)
    if rate:
        add("--learning-rate", "--lr", type=POSITIVE, metavar="LR", help="step size (default: 0.1)")
    if optimizer:
        add(
            "--optimizer",
            choices=sorted(OPTIMIZERS),
            help="update rule (default: sgd; barenet train's: nesterov)",
        )
    if hidden:
        add(
            "--hidden",
            nargs="+",
            type=count,
            metavar="SIZE",
            help="hidden widths (default: 128 64; barenet train's: 512 256)",
        )


def _architectures_options(add):
    count = int_at_least(1)
    _training_options(add, hidden=False)
    add(
        "--architecture",
        dest="architectures",  # shared with --layers: the networks in command-line order
        action="append",
        nargs="+",
        type=count,
        metavar="SIZE",
        help="the hidden widths of one fully connected network; repeat the option for each "
        "(default: 256 | 128 64 | 512 256 128 64 | 1024 512)",
    )
    add(
        "--layers",
        dest="architectures",
        action="append",
        metavar="LINE",
        help="one network as a line of layers, such as 'conv8x3 relu pool2 flatten dense32 "
        "relu' (the output layer is added); repeat the option for each, beside --architecture",
    )


def _learning_rates_options(add):
    _training_options(add, optimizer=False, rate=False)
    add(
        "--optimizers",
        nargs="+",
        choices=sorted(OPTIMIZERS),
        metavar="NAME",
        help="the optimizers to compare (default: sgd adam)",
    )
    add(
        "--learning-rates",
        nargs="+",
        type=POSITIVE,
        metavar="LR",
        help="the rates to try with each optimizer (default: a grid per optimizer)",
    )


def _dynamics_options(add):
    _training_options(add)
    add(
        "--activation",
        choices=sorted(ACTIVATIONS),
        help="one network with this activation (default: ReLU, and a deep sigmoid one)",
    )


def _robustness_options(add):
    _training_options(add)
    add("--model", metavar="PATH", help="score this saved model, train none")
    add(
        "--noise-training",
        type=NON_NEGATIVE,
        metavar="SIGMA",
        help="also train with Gaussian noise of SIGMA on the images",
    )
    add(
        "--perturbations",
        nargs="+",
        choices=list(PERTURBATIONS),
        metavar="NAME",
        help=f"which damage ({', '.join(PERTURBATIONS)}; default: all)",
    )


class OptionRecorder:
    """A parser (or argument group) that notes the option strings of each argument added
    through it, so that a study knows its options without reading argparse's internals."""

    def __init__(self, parser, option_strings=None):
        self.parser = parser
        self.option_strings = [] if option_strings is None else option_strings

    def add_argument(self, *args, **kwargs):
        action = self.parser.add_argument(*args, **kwargs)
        self.option_strings.extend(action.option_strings)
        return action

    def add_argument_group(self, *args, **kwargs):
        group = self.parser.add_argument_group(*args, **kwargs)
        return OptionRecorder(group, self.option_strings)


STUDY_OPTIONS = {
    "architectures": _architectures_options,
    "learning-rates": _learning_rates_options,
    "dynamics": _dynamics_options,
    "robustness": _robustness_options,
}


def add_study_parsers(sub, titles):
    """Give the ``experiment`` parser ``sub`` one sub-parser per study of ``titles`` (name ->
    title), each with the options every study takes and its own, and its own help."""
    every = "options every study takes (and its own: barenet experiment STUDY --help)"
    sub.epilog = f"{every}:\n  {_common_usage()}\n\n{sub.epilog}"
    studies = sub.add_subparsers(title="studies", dest="study", required=True)
    for name, title in titles.items():
        about = f"{STUDY_HELP[name]} {defaults_note(name, TRAIN_DEFAULTS)}"
        example = f"example:\n  {STUDY_EXAMPLES[name]}"
        study = studies.add_parser(name, help=title, description=textwrap.fill(about, 88),
                                   epilog=example, formatter_class=HelpFormatter)  # fmt: skip
        options = OptionRecorder(study)
        _runs_options(options, name)
        STUDY_OPTIONS[name](options.add_argument_group(f"the {name} study").add_argument)
        _how_to_run_options(options)
        for option in ["-h", "--help", *options.option_strings]:
            OPTION_STUDIES.setdefault(option, []).append(name)
    for option, names in OPTION_STUDIES.items():
        if len(names) < len(titles):
            FOREIGN_OPTIONS[option] = f"{option} is an option of the {' and '.join(names)} study"
