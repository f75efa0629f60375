"""The CLOUD benchmark suite as a library: ``evaluate(model, tasks)`` and its results.

    from cloud_bench import evaluate
    res = evaluate(MyModel(), tasks=["matbench_jdft2d"])
    res.to_frame()        # task, model, fold, metric, value
    print(res.leaderboard())

Models follow the model protocol (``benchmarks.models.protocol``); tasks are the registered
benchmark tasks or your own (:class:`Task`, ``Task.from_file("task.yaml")``). The
``cloud-bench`` command (:mod:`cloud_bench.cli`) is a thin layer over the same function.
"""

from cloud_bench.evaluate import evaluate
from cloud_bench.results import FoldResult, RunResult, TaskResult, load_results

__all__ = ["CloudEmbedder", "FoldResult", "RunResult", "Task", "TaskResult", "evaluate",
           "load_results"]


def __getattr__(name):
    if name == "Task":  # the user-task adapter (imports the task registry on first use)
        from benchmarks.tasks.user import Task

        return Task
    if name == "CloudEmbedder":  # frozen-encoder embeddings as a scikit-learn transformer
        from cloud.embeddings import CloudEmbedder

        return CloudEmbedder
    raise AttributeError(name)
