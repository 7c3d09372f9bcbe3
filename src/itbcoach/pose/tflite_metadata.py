"""Read and write TFLite model metadata (the ``TFLITE_METADATA`` buffer) for image models.

MediaPipe Tasks reads a float image model's input normalisation from the TFLite metadata
(a ``ModelMetadata`` flatbuffer, file identifier ``M001``, stored in one of the model's
buffers and named ``TFLITE_METADATA`` in the model's ``metadata`` list). Models without it
fail to load with "Input tensor has type float32: it requires specifying
NormalizationOptions metadata". This module writes that metadata with the ``flatbuffers``
runtime and the generated schema modules that mediapipe itself ships
(:mod:`mediapipe.tasks.metadata.schema_py_generated` for the TFLite model,
:mod:`mediapipe.tasks.metadata.metadata_schema_py_generated` for the metadata).

Normalisation convention (TFLite metadata): ``input = (pixel - mean) / std`` per channel,
pixels in 0..255.

Output is byte-deterministic, whatever the flatbuffers release: the original model bytes
are kept and only a small prefix is written (:func:`embed_metadata`), and the metadata
flatbuffer is built without vtable sharing (the one thing flatbuffers releases do
differently).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import flatbuffers
import numpy as np
from mediapipe.tasks.metadata import metadata_schema_py_generated as _meta
from mediapipe.tasks.metadata import schema_py_generated as _tfl

#: File identifier of a TFLite model flatbuffer.
MODEL_IDENTIFIER = b"TFL3"
#: File identifier of a ModelMetadata flatbuffer.
METADATA_IDENTIFIER = b"M001"
#: Name of the model-level metadata entry MediaPipe and TFLite Support look up.
METADATA_NAME = b"TFLITE_METADATA"
#: Alignment in bytes of the metadata bytes inside the model.
BUFFER_ALIGNMENT = 16
#: The prefix :func:`embed_metadata` puts before the original model is a multiple of this,
#: so every buffer of the original model keeps its alignment.
PREFIX_ALIGNMENT = 64
#: Root ``Model`` table of the TFLite schema: slot 0 (version) is a uint32, slots 1..9
#: are offsets (operator_codes, subgraphs, description, buffers, metadata_buffer,
#: metadata, signature_defs, external_buffer_groups, external_buffers).
_MODEL_SCALAR_SLOTS = frozenset({0})
_MODEL_LAST_SLOT = 9
_MODEL_BUFFERS_SLOT = 4
_MODEL_METADATA_SLOT = 6
#: Metadata parser version the fields written here need (all exist since 1.0.0).
MIN_PARSER_VERSION = "1.0.0"


class TFLiteMetadataError(ValueError):
    """The bytes are not a TFLite model, or not one this module can annotate."""


@dataclass(frozen=True)
class ImageInput:
    """The single RGB image input of a float model.

    Attributes:
        name: Tensor name in the metadata (e.g. ``"image"``).
        description: One sentence for humans.
        mean: Per-channel (or one shared) mean subtracted from 0..255 pixels.
        std: Per-channel (or one shared) divisor applied after the mean.
    """

    name: str
    description: str
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.mean or len(self.mean) != len(self.std):
            raise ValueError("mean and std need the same non-zero number of values")
        if any(s == 0 for s in self.std):
            raise ValueError("std must not contain 0")


@dataclass(frozen=True)
class TensorInfo:
    """Name and description of one output tensor, in the model's output order."""

    name: str
    description: str


def build_image_model_metadata(
    *,
    name: str,
    description: str,
    version: str,
    author: str,
    license_text: str,
    image_input: ImageInput,
    outputs: Sequence[TensorInfo],
) -> bytes:
    """A serialised ``ModelMetadata`` flatbuffer for a one-input image model.

    The input tensor gets RGB ``ImageProperties``, a ``NormalizationOptions`` process
    unit (``image_input.mean``/``std``) and ``Stats`` with the normalised value range.
    Outputs get ``FeatureProperties`` and the given names.

    Returns:
        The metadata bytes (file identifier ``M001``).
    """
    mean = np.asarray(image_input.mean, dtype=np.float32)
    std = np.asarray(image_input.std, dtype=np.float32)

    norm = _meta.NormalizationOptionsT()
    norm.mean = mean
    norm.std = std
    unit = _meta.ProcessUnitT()
    unit.optionsType = _meta.ProcessUnitOptions.NormalizationOptions
    unit.options = norm

    image_props = _meta.ImagePropertiesT()
    image_props.colorSpace = _meta.ColorSpaceType.RGB
    content = _meta.ContentT()
    content.contentPropertiesType = _meta.ContentProperties.ImageProperties
    content.contentProperties = image_props

    lo = (0.0 - mean) / std
    hi = (255.0 - mean) / std
    stats = _meta.StatsT()
    stats.min = np.minimum(lo, hi).astype(np.float32)
    stats.max = np.maximum(lo, hi).astype(np.float32)

    tin = _meta.TensorMetadataT()
    tin.name = image_input.name
    tin.description = image_input.description
    tin.content = content
    tin.processUnits = [unit]
    tin.stats = stats

    touts = []
    for info in outputs:
        feat = _meta.ContentT()
        feat.contentPropertiesType = _meta.ContentProperties.FeatureProperties
        feat.contentProperties = _meta.FeaturePropertiesT()
        tout = _meta.TensorMetadataT()
        tout.name = info.name
        tout.description = info.description
        tout.content = feat
        tout.stats = _meta.StatsT()
        touts.append(tout)

    subgraph = _meta.SubGraphMetadataT()
    subgraph.inputTensorMetadata = [tin]
    subgraph.outputTensorMetadata = touts

    model_meta = _meta.ModelMetadataT()
    model_meta.name = name
    model_meta.description = description
    model_meta.version = version
    model_meta.author = author
    model_meta.license = license_text
    model_meta.subgraphMetadata = [subgraph]
    model_meta.minParserVersion = MIN_PARSER_VERSION

    builder = _NoDedupBuilder(1024)
    builder.Finish(model_meta.Pack(builder), file_identifier=METADATA_IDENTIFIER)
    return bytes(builder.Output())


def embed_metadata(model: bytes, metadata: bytes) -> bytes:
    """Return ``model`` with ``metadata`` as its ``TFLITE_METADATA`` buffer.

    The original model bytes are kept unchanged: a small prefix holding a new root
    ``Model`` table, new ``buffers`` (and ``metadata``) vectors, the new ``Buffer`` and
    ``Metadata`` tables and the metadata bytes is put in front of them, and the new root
    table points into the old bytes for everything else (flatbuffer offsets are relative
    and point forward, so the old objects stay valid). The prefix length is a multiple of
    :data:`PREFIX_ALIGNMENT`, which keeps every old buffer's alignment. An existing
    ``TFLITE_METADATA`` entry keeps its place and points to the new buffer; otherwise a
    buffer and an entry are appended. The result depends on the input bytes only.

    Args:
        model: A TFLite flatbuffer (identifier ``TFL3``) without external buffers.
        metadata: A ModelMetadata flatbuffer, e.g. from :func:`build_image_model_metadata`.

    Raises:
        TFLiteMetadataError: ``model`` is not a TFLite flatbuffer, uses a root field this
            module does not know, stores buffers outside the flatbuffer, or ``metadata``
            is not a ModelMetadata flatbuffer.
    """
    _check_identifier(model, MODEL_IDENTIFIER, "a TFLite model")
    _check_identifier(metadata, METADATA_IDENTIFIER, "TFLite metadata")
    root = _tfl.Model.GetRootAs(model, 0)
    for i in range(root.BuffersLength()):
        if root.Buffers(i).Offset() or root.Buffers(i).Size():
            raise TFLiteMetadataError("models with buffers outside the flatbuffer are not "
                                      "supported")

    # Fields of the old root table: slot -> raw scalar bytes or absolute target position.
    table = _u32(model, 0)
    vtable = table - _i32(model, table)
    slots = (_u16(model, vtable) - 4) // 2
    scalars: dict[int, bytes] = {}
    targets: dict[int, int] = {}
    for slot in range(slots):
        off = _u16(model, vtable + 4 + 2 * slot)
        if not off:
            continue
        pos = table + off
        if slot in _MODEL_SCALAR_SLOTS:
            scalars[slot] = model[pos:pos + 4]
        elif slot <= _MODEL_LAST_SLOT:
            targets[slot] = pos + _u32(model, pos)
        else:
            raise TFLiteMetadataError(f"unknown Model field {slot}; update mediapipe/itbcoach")
    if _MODEL_BUFFERS_SLOT not in targets:
        raise TFLiteMetadataError("model has no buffers vector")

    buffers: list[tuple[str, int]] = [
        ("old", t) for t in _vector_targets(model, targets[_MODEL_BUFFERS_SLOT])]
    entries: list[tuple[str, int]] = [
        ("old", t) for t in _vector_targets(model, targets.get(_MODEL_METADATA_SLOT))]
    existing = [i for i in range(root.MetadataLength())
                if root.Metadata(i).Name() == METADATA_NAME]
    if existing:
        buffers[root.Metadata(existing[0]).Buffer()] = ("new", _NEW_BUFFER)
        new_entry_index = None
    else:
        new_entry_index = len(buffers)
        buffers.append(("new", _NEW_BUFFER))
        entries.append(("new", _NEW_ENTRY))

    w = _PrefixWriter()
    w.ref(("new", _ROOT))
    w.raw(MODEL_IDENTIFIER)
    fields = sorted({*scalars, *targets, _MODEL_BUFFERS_SLOT,
                     *([_MODEL_METADATA_SLOT] if new_entry_index is not None else [])})
    w.table(fields=max(fields) + 1, layout=[(slot, 4) for slot in fields], label=_ROOT)
    for slot in fields:
        if slot in scalars:
            w.raw(scalars[slot])
        elif slot == _MODEL_BUFFERS_SLOT:
            w.ref(("new", "buffers"))
        elif slot == _MODEL_METADATA_SLOT and new_entry_index is not None:
            w.ref(("new", "entries"))
        else:
            w.ref(("old", targets[slot]))
    w.vector_of_refs(buffers, label="buffers")
    if new_entry_index is not None:
        w.vector_of_refs(entries, label="entries")
        w.table(fields=2, layout=[(0, 4), (1, 4)], label=_NEW_ENTRY)
        w.ref(("new", "name"))
        w.raw(struct.pack("<I", new_entry_index))
        w.string(METADATA_NAME, label="name")
    w.table(fields=1, layout=[(0, 4)], label=_NEW_BUFFER)
    w.ref(("new", "data"))
    w.byte_vector(metadata, align=BUFFER_ALIGNMENT, label="data")
    return w.finish(model, PREFIX_ALIGNMENT)


def write_image_model_metadata(
    model: bytes,
    *,
    name: str,
    description: str,
    version: str,
    author: str,
    license_text: str,
    image_input: ImageInput,
    outputs: Sequence[TensorInfo],
) -> bytes:
    """Annotate a one-input float image model; checks the tensor counts first.

    Raises:
        TFLiteMetadataError: the model has not exactly one float32 input of shape
            ``(1, H, W, 3)``, or ``outputs`` does not name every output tensor.
    """
    _check_identifier(model, MODEL_IDENTIFIER, "a TFLite model")
    root = _tfl.Model.GetRootAs(model, 0)
    if root.SubgraphsLength() != 1:
        raise TFLiteMetadataError(f"expected 1 subgraph, found {root.SubgraphsLength()}")
    graph = root.Subgraphs(0)
    if graph.InputsLength() != 1:
        raise TFLiteMetadataError(f"expected 1 input tensor, found {graph.InputsLength()}")
    tensor = graph.Tensors(graph.Inputs(0))
    shape = tuple(int(d) for d in tensor.ShapeAsNumpy())
    if tensor.Type() != _tfl.TensorType.FLOAT32 or len(shape) != 4 or shape[3] != 3:
        raise TFLiteMetadataError(
            f"expected a float32 (1, H, W, 3) input, found type {tensor.Type()} shape {shape}")
    if graph.OutputsLength() != len(outputs):
        raise TFLiteMetadataError(
            f"model has {graph.OutputsLength()} outputs but {len(outputs)} were described")
    meta = build_image_model_metadata(
        name=name, description=description, version=version, author=author,
        license_text=license_text, image_input=image_input, outputs=outputs)
    return embed_metadata(model, meta)


def read_metadata(model: bytes) -> _meta.ModelMetadataT | None:
    """The model's ``TFLITE_METADATA`` as an object tree, or None when it has none.

    Raises:
        TFLiteMetadataError: ``model`` is not a TFLite flatbuffer.
    """
    _check_identifier(model, MODEL_IDENTIFIER, "a TFLite model")
    root = _tfl.Model.GetRootAs(model, 0)
    for i in range(root.MetadataLength()):
        entry = root.Metadata(i)
        if entry.Name() == METADATA_NAME:
            data = root.Buffers(entry.Buffer()).DataAsNumpy()
            if isinstance(data, int):  # flatbuffers returns 0 for an absent vector
                return None
            raw = data.tobytes()
            _check_identifier(raw, METADATA_IDENTIFIER, "TFLite metadata")
            return _meta.ModelMetadataT.InitFromPackedBuf(bytearray(raw), 0)
    return None


def model_io(model: bytes) -> tuple[tuple[int, ...], int]:
    """``(input shape, number of outputs)`` of a one-subgraph TFLite model.

    Raises:
        TFLiteMetadataError: ``model`` is not a TFLite flatbuffer.
    """
    _check_identifier(model, MODEL_IDENTIFIER, "a TFLite model")
    root = _tfl.Model.GetRootAs(model, 0)
    if root.SubgraphsLength() < 1:
        raise TFLiteMetadataError("the model has no subgraph")
    graph = root.Subgraphs(0)
    if graph.InputsLength() < 1:
        raise TFLiteMetadataError("the model has no input")
    shape = graph.Tensors(graph.Inputs(0)).ShapeAsNumpy()
    return tuple(int(d) for d in np.atleast_1d(shape)), int(graph.OutputsLength())


def input_normalization(model: bytes) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """``(mean, std)`` of the first input's NormalizationOptions, or None if absent."""
    meta = read_metadata(model)
    if meta is None or not meta.subgraphMetadata:
        return None
    inputs = meta.subgraphMetadata[0].inputTensorMetadata or []
    if not inputs:
        return None
    for unit in inputs[0].processUnits or []:
        if unit.optionsType == _meta.ProcessUnitOptions.NormalizationOptions:
            opts = unit.options
            return (tuple(float(v) for v in np.atleast_1d(opts.mean)),
                    tuple(float(v) for v in np.atleast_1d(opts.std)))
    return None


def _check_identifier(data: bytes, ident: bytes, what: str) -> None:
    if len(data) < 8 or data[4:8] != ident:
        raise TFLiteMetadataError(f"not {what} (file identifier {data[4:8]!r}, "
                                  f"expected {ident!r})")


def _u16(data: bytes, pos: int) -> int:
    return struct.unpack_from("<H", data, pos)[0]


def _u32(data: bytes, pos: int) -> int:
    return struct.unpack_from("<I", data, pos)[0]


def _i32(data: bytes, pos: int) -> int:
    return struct.unpack_from("<i", data, pos)[0]


def _vector_targets(data: bytes, vector: int | None) -> list[int]:
    """Absolute positions the elements of a vector of offsets at ``vector`` point to."""
    if vector is None:
        return []
    n = _u32(data, vector)
    return [vector + 4 + 4 * i + _u32(data, vector + 4 + 4 * i) for i in range(n)]


_ROOT, _NEW_BUFFER, _NEW_ENTRY = "root", "buffer", "entry"


class _PrefixWriter:
    """Writes flatbuffer objects front to back; offsets are patched in :meth:`finish`.

    A reference is ``("new", label)`` (an object written here) or ``("old", pos)`` (a
    position in the original model, which will follow the prefix).
    """

    def __init__(self) -> None:
        self.buf = bytearray()
        self.labels: dict[str, int] = {}
        self.refs: list[tuple[int, tuple[str, object]]] = []

    def pad_to(self, align: int, extra: int = 0) -> None:
        """Pad so that ``len + extra`` is a multiple of ``align``."""
        self.buf += b"\0" * ((-(len(self.buf) + extra)) % align)

    def raw(self, data: bytes) -> None:
        self.buf += data

    def ref(self, target: tuple[str, object]) -> None:
        self.refs.append((len(self.buf), target))
        self.buf += b"\0\0\0\0"

    def table(self, fields: int, layout: list[tuple[int, int]], label: str) -> int:
        """Write a vtable and the table's soffset; the caller then writes the fields.

        ``layout`` lists ``(slot, size)`` in the order the fields follow the soffset.
        """
        self.pad_to(2)
        vtable = len(self.buf)
        offsets = [0] * fields
        at = 4
        for slot, size in layout:
            offsets[slot] = at
            at += size
        self.buf += struct.pack(f"<HH{fields}H", 4 + 2 * fields, at, *offsets)
        self.pad_to(4)
        table = len(self.buf)
        self.buf += struct.pack("<i", table - vtable)
        self.labels[label] = table
        return table

    def vector_of_refs(self, targets: list[tuple[str, object]], label: str) -> None:
        self.pad_to(4)
        self.labels[label] = len(self.buf)
        self.buf += struct.pack("<I", len(targets))
        for target in targets:
            self.ref(target)

    def string(self, text: bytes, label: str) -> None:
        self.pad_to(4)
        self.labels[label] = len(self.buf)
        self.buf += struct.pack("<I", len(text)) + text + b"\0"

    def byte_vector(self, data: bytes, align: int, label: str) -> None:
        self.pad_to(align, extra=4)  # the data after the length is aligned
        self.labels[label] = len(self.buf)
        self.buf += struct.pack("<I", len(data)) + data

    def finish(self, tail: bytes, align: int) -> bytes:
        self.pad_to(align)
        start = len(self.buf)
        for pos, (kind, where) in self.refs:
            target = self.labels[where] if kind == "new" else start + int(where)
            if target <= pos:
                raise TFLiteMetadataError("internal error: backward flatbuffer offset")
            struct.pack_into("<I", self.buf, pos, target - pos)
        return bytes(self.buf) + tail


class _NoDedupBuilder(flatbuffers.Builder):
    """A Builder that never shares vtables between tables.

    flatbuffers 25.12 changed which vtables it shares (the key now includes the object
    size), so shared vtables make the bytes depend on the runtime's version; without
    sharing they depend on the input only.
    """

    def EndObject(self) -> int:
        self.vtables = {}
        return super().EndObject()
