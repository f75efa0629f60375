"""``import cloud`` makes transformers' Auto classes know CLOUD, without importing them.

``AutoConfig``, ``AutoModel`` (the bare encoder), ``AutoModelForMaskedLM`` and
``AutoTokenizer`` then load every checkpoint the project writes. Registering needs
``cloud.model`` (torch, transformers), which the SCOPE encoder must not pay for, so
:func:`install` registers at once when transformers is already imported and otherwise
leaves a finder on ``sys.meta_path`` that registers right after transformers' own import
finishes (and then removes itself).
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import warnings


def register() -> None:
    """Register CLOUD's config and models with the Auto classes (idempotent)."""
    import cloud.model  # noqa: F401  (registers on import)


def _register_quietly() -> None:
    try:
        register()
    except Exception as exc:  # never break `import transformers` itself
        warnings.warn(f"CLOUD could not register with transformers' Auto classes: {exc}",
                      stacklevel=2)


class _AfterTransformers(importlib.abc.MetaPathFinder):
    """Wraps the loader of the top-level ``transformers`` package once."""

    def find_spec(self, name, path=None, target=None):
        if name != "transformers":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_register(module):
            exec_module(module)
            _register_quietly()

        spec.loader.exec_module = exec_then_register
        return spec


def install() -> None:
    if "transformers" in sys.modules:
        _register_quietly()
    elif not any(isinstance(f, _AfterTransformers) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterTransformers())


__all__ = ["install", "register"]
