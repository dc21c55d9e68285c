"""Reading skops files without importing ``skops.io``.

Importing ``skops.io`` walks every scikit-learn package to list its estimators: it takes most of a
second, imports pytest, and imports torch whenever torch is installed (through scikit-learn's array-API
shims). A scoring server needs none of that. This reader handles the node types scikit-learn models
are made of (JSON values, containers, types and functions, numpy arrays and scalars, objects restored
with ``__setstate__``, decision trees) in the current skops protocol; a file with anything else
raises ``Unsupported``, and the caller loads it with skops itself.

Like skops, nothing is imported or built before the whole file is audited: ``read`` first plans
every node and collects the types it would use, the caller's policy refuses the untrusted ones, and
only then are modules imported and objects built. A decision tree's node array is checked before
scikit-learn sees it (child and feature indices in range, children after their parent), so a
crafted file cannot make inference read out of bounds or loop.
"""

from __future__ import annotations

import importlib
import io
import json
import zipfile
from collections.abc import Callable, Collection
from typing import Any

import numpy as np

PROTOCOL = 2  # the skops file protocol this reader implements (skops 0.10 and later)
_CONTAINERS = {"ListNode": "list", "SetNode": "set", "TupleNode": "tuple", "DictNode": "dict"}
_TREE = ("sklearn.tree._tree", "Tree")
_LOSS_MODULES = ("sklearn._loss._loss", "sklearn.linear_model._sgd_fast")  # Cython loss classes
_KEY_TYPES = (str, int, float, bool)
_LEAF = -1
# Plain value types, always allowed (skops trusts them by default too); any other builtin is a type
# the caller's policy judges.
PLAIN_TYPES = frozenset(
    {f"builtins.{name}" for name in ("bool", "int", "float", "str", "list", "tuple", "dict", "set")}
    | {"collections.OrderedDict"}
)


class Unsupported(Exception):
    """The file uses something this reader does not implement (load it with skops)."""


class _Node:
    """One planned object: how to build it, from which children, and the type it needs."""

    __slots__ = ("build", "built", "state")

    def __init__(self, build: Callable[[_Node], Any], state: Any) -> None:
        self.build = build
        self.state = state
        self.built: Any = _PENDING


_PENDING = object()
_BUILDING = object()


def read(payload: bytes, check: Callable[[list[str]], None], functions: Collection[str] = ()) -> Any:
    """The object in a skops file.

    Args:
        payload: the file's bytes.
        check: called with every type the file uses (``module.name``) before anything is imported
            or built; it raises to refuse the file.
        functions: names the caller trusts even when they turn out to be plain functions. Any other
            name that is neither a class nor a numpy/scipy ufunc is refused when it is resolved: a
            model holding a function may call it at predict time (``FunctionTransformer``).

    Raises:
        Unsupported: the file needs skops itself (another protocol, another node type).
        ValueError: the file is malformed (a tree whose nodes point out of range, ...).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            schema = json.loads(archive.read("schema.json"))
            if not isinstance(schema, dict) or schema.get("protocol") != PROTOCOL:
                raise Unsupported(f"skops protocol {schema.get('protocol') if isinstance(schema, dict) else '?'}")
            plan = _Plan(archive, frozenset(functions))
            root = plan.node(schema)
            check(sorted(plan.types))
            return plan.construct(root)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed skops file ({type(exc).__name__}: {exc})") from None


class _Plan:
    """Turns ``schema.json`` into nodes, collecting the types they need, then builds them."""

    def __init__(self, archive: zipfile.ZipFile, functions: frozenset[str]) -> None:
        self.archive = archive
        self.functions = functions
        self.memo: dict[int, _Node] = {}
        self.types: set[str] = set()

    def node(self, state: Any) -> _Node:
        if not isinstance(state, dict):
            raise TypeError("a node must be an object")
        saved = state.get("__id__")
        if saved is not None and saved in self.memo:
            return self.memo[saved]
        loader = state["__loader__"]
        if loader == "CachedNode":
            raise Unsupported("a reference to an object that is not loaded yet")
        planner = _PLANNERS.get(loader)
        if planner is None:
            raise Unsupported(f"node type {loader}")
        node = planner(self, state)
        if saved is not None:
            self.memo[saved] = node
        return node

    def uses(self, module: Any, name: Any) -> tuple[str, str]:
        if not isinstance(module, str) or not isinstance(name, str) or not module or not name:
            raise TypeError(f"invalid type name {module!r}.{name!r}")
        if f"{module}.{name}" not in PLAIN_TYPES:
            self.types.add(f"{module}.{name}")
        return module, name

    def construct(self, node: _Node) -> Any:
        if node.built is _BUILDING:
            raise Unsupported("an object that contains itself")
        if node.built is _PENDING:
            node.built = _BUILDING
            node.built = node.build(node)
        return node.built

    # -- planners: read a node's state, plan its children, record its type ---------------------

    def json_value(self, state: dict[str, Any]) -> _Node:
        return _Node(lambda node: node.state, json.loads(state["content"]))

    def container(self, state: dict[str, Any]) -> _Node:
        kind = _CONTAINERS[state["__loader__"]]
        module, name = state["__module__"], state["__class__"]
        if kind == "dict":
            # dict, OrderedDict, or a dict subclass (scikit-learn's Bunch): the policy judges the type
            cls = (module, name) if (module, name) != ("builtins", "dict") else None
            if cls is not None:
                self.uses(module, name)
            keys = self.node(state["key_types"])
            values = {key: self.node(value) for key, value in state["content"].items()}
            return _Node(lambda node: self._dict(cls, *node.state), (keys, values))
        if (module, name) != ("builtins", kind):
            raise Unsupported(f"container type {module}.{name}")
        items = [self.node(value) for value in state["content"]]
        factory: Any = {"list": list, "set": set, "tuple": tuple}[kind]
        return _Node(lambda node: factory(self.construct(item) for item in node.state), items)

    def _dict(self, kind: tuple[str, str] | None, keys: _Node, values: dict[str, _Node]) -> Any:
        out: dict[Any, Any] = {} if kind is None else _class(kind, dict)()
        key_types = self.construct(keys)
        if len(key_types) != len(values):
            raise TypeError("dict keys and key types differ in number")
        for key_type, (key, value) in zip(key_types, values.items(), strict=True):
            if key_type not in _KEY_TYPES and not (isinstance(key_type, type) and issubclass(key_type, np.number)):
                raise ValueError(f"a dict key of type {key_type!r}")  # keys are built by calling their type
            out[key_type(key)] = self.construct(value)
        return out

    def named(self, state: dict[str, Any]) -> _Node:
        """A type or a function, by module and name."""
        return _Node(lambda node: self._named(node.state), self.uses(state["__module__"], state["__class__"]))

    def _named(self, kind: tuple[str, str]) -> Any:
        found = _import(*kind)
        if isinstance(found, type) or _is_ufunc(found) or ".".join(kind) in self.functions:
            return found
        raise ValueError(f"{'.'.join(kind)} is a function, not a type; trust it by name to load it")

    def slice(self, state: dict[str, Any]) -> _Node:
        bounds = tuple(state["content"][key] for key in ("start", "stop", "step"))
        if not all(bound is None or type(bound) is int for bound in bounds):
            raise TypeError("slice bounds must be integers")
        return _Node(lambda node: slice(*node.state), bounds)

    def array(self, state: dict[str, Any]) -> _Node:
        kind = self.uses(state["__module__"], state["__class__"])
        if state["type"] == "numpy":
            raw = self.archive.read(state["file"])
            return _Node(lambda node: _array(raw, node.state), kind)
        if state["type"] == "json":
            items = [self.node(value) for value in state["content"]]
            shape = self.node(state["shape"])
            return _Node(lambda node: self._object_array(*node.state), (items, shape))
        raise TypeError(f"unknown array storage {state['type']!r}")

    def _object_array(self, items: list[_Node], shape: _Node) -> np.ndarray:
        values = [self.construct(item) for item in items]
        if len(self.construct(shape)) == 1:
            out = np.empty(len(values), dtype=object)
            out[:] = values
            return out
        return np.array(values, dtype=object)

    def instance(self, state: dict[str, Any]) -> _Node:
        kind = self.uses(state["__module__"], state["__class__"])
        attrs = self.node(state["content"]) if state.get("content") is not None else None
        return _Node(lambda node: self._instance(*node.state), (kind, attrs))

    def _instance(self, kind: tuple[str, str], attrs: _Node | None) -> Any:
        cls: Any = _class(kind)
        instance = cls.__new__(cls)
        state = self.construct(attrs) if attrs is not None else None
        if state is not None:
            if hasattr(instance, "__setstate__"):
                instance.__setstate__(state)
            else:
                instance.__dict__.update(state)
        return instance

    def tree(self, state: dict[str, Any]) -> _Node:
        if (state["__module__"], state["__class__"]) != _TREE:
            raise Unsupported(f"tree type {state['__module__']}.{state['__class__']}")
        self.uses(*_TREE)
        args = self.node(state["__reduce__"]["args"])
        attrs = self.node(state["content"])
        return _Node(lambda node: self._tree(*node.state), (args, attrs))

    def _tree(self, args: _Node, attrs: _Node) -> Any:
        n_features, n_classes, n_outputs = self.construct(args)
        state = self.construct(attrs)
        check_tree(state, int(n_features))
        tree = _import(*_TREE)(n_features, n_classes, n_outputs)
        tree.__setstate__(state)
        return tree

    def loss(self, state: dict[str, Any]) -> _Node:
        kind = self.uses(state["__module__"], state["__class__"])
        if kind[0] not in _LOSS_MODULES:
            raise Unsupported(f"loss type {kind[0]}.{kind[1]}")
        args = self.node(state["__reduce__"]["args"])
        attrs = self.node(state["content"])
        return _Node(lambda node: self._loss(*node.state), (kind, args, attrs))

    def _loss(self, kind: tuple[str, str], args: _Node, attrs: _Node) -> Any:
        instance = _class(kind)(*self.construct(args))
        state = self.construct(attrs)
        if state:
            if hasattr(instance, "__setstate__"):
                instance.__setstate__(state)
            elif isinstance(state, dict):
                instance.__dict__.update(state)
            else:
                raise Unsupported(f"the state of {kind[0]}.{kind[1]}")
        return instance

    def random_state(self, state: dict[str, Any]) -> _Node:
        kind = self.uses(state["__module__"], state["__class__"])
        if kind[0] not in ("numpy.random", "numpy.random.mtrand") or kind[1] != "RandomState":
            raise Unsupported(f"random state type {kind[0]}.{kind[1]}")
        content = self.node(state["content"])
        return _Node(lambda node: self._random_state(node.state), content)

    def _random_state(self, content: _Node) -> Any:
        generator = np.random.RandomState()
        generator.set_state(self.construct(content))
        return generator

    def random_generator(self, state: dict[str, Any]) -> _Node:
        kind = self.uses(state["__module__"], state["__class__"])
        if kind[0] not in ("numpy.random", "numpy.random._generator") or kind[1] != "Generator":
            raise Unsupported(f"random generator type {kind[0]}.{kind[1]}")
        bits = self.node(state["content"]["bit_generator"])
        seeds = self.node(state["content"]["seed_seq"])
        return _Node(lambda node: self._random_generator(*node.state), (bits, seeds))

    def _random_generator(self, bits: _Node, seeds: _Node) -> Any:
        state = self.construct(bits)
        bit_generator = _class(("numpy.random", str(state["bit_generator"])), np.random.BitGenerator)
        generator = bit_generator(np.random.SeedSequence(**self.construct(seeds)))
        generator.state = state
        return np.random.Generator(generator)

    def dtype(self, state: dict[str, Any]) -> _Node:
        content = self.node(state["content"])
        return _Node(lambda node: self.construct(node.state).dtype, content)


_PLANNERS: dict[str, Callable[[_Plan, dict[str, Any]], _Node]] = {
    "JsonNode": _Plan.json_value,
    "ListNode": _Plan.container,
    "SetNode": _Plan.container,
    "TupleNode": _Plan.container,
    "DictNode": _Plan.container,
    "TypeNode": _Plan.named,
    "FunctionNode": _Plan.named,
    "NdArrayNode": _Plan.array,
    "ObjectNode": _Plan.instance,
    "TreeNode": _Plan.tree,
    "LossNode": _Plan.loss,
    "RandomStateNode": _Plan.random_state,
    "RandomGeneratorNode": _Plan.random_generator,
    "DTypeNode": _Plan.dtype,
    "SliceNode": _Plan.slice,
}


def _import(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def _class(kind: tuple[str, str], base: type = object) -> type:
    """The class ``kind`` names, refusing anything else (a function or a class of another family):
    what this reader calls must be a constructor it expects."""
    found = _import(*kind)
    if not isinstance(found, type) or not issubclass(found, base):
        raise ValueError(f"{'.'.join(kind)} is not a {base.__name__} class")
    return found


def _is_ufunc(found: Any) -> bool:
    """A numpy ufunc, or one of scipy's ufunc wrappers (scipy 2)."""
    if isinstance(found, np.ufunc):
        return True
    wrapper = type(found)
    return wrapper.__module__.startswith("scipy.special") and "UFuncWrapper" in {c.__name__ for c in wrapper.__mro__}


def _array(raw: bytes, kind: tuple[str, str]) -> Any:
    content = np.load(io.BytesIO(raw), allow_pickle=False)
    if kind != ("numpy", "ndarray"):
        content = _class(kind, np.generic)(content)  # a numpy scalar (numpy.int64, ...)
    return content


def check_tree(state: Any, n_features: int) -> None:
    """Refuse a decision tree whose nodes scikit-learn would follow out of bounds or in a loop.

    Raises:
        ValueError: naming what is wrong.
    """
    nodes, values = state.get("nodes"), state.get("values")
    count = state.get("node_count")
    if not isinstance(nodes, np.ndarray) or not isinstance(values, np.ndarray) or not isinstance(count, int):
        raise ValueError("a decision tree without its node arrays")
    if nodes.ndim != 1 or len(nodes) != count or len(values) != count or count < 1:
        raise ValueError("a decision tree whose node count does not match its arrays")
    left, right, feature = (nodes[field].astype(np.int64) for field in ("left_child", "right_child", "feature"))
    index = np.arange(count)
    leaf = left == _LEAF
    if not np.array_equal(leaf, right == _LEAF):
        raise ValueError("a decision tree node with only one child")
    split = ~leaf
    inside = (left > index) & (left < count) & (right > index) & (right < count)
    if not inside[split].all() or not ((feature >= 0) & (feature < n_features))[split].all():
        raise ValueError("a decision tree node that points outside the tree or its features")


__all__ = ["PLAIN_TYPES", "PROTOCOL", "Unsupported", "check_tree", "read"]
