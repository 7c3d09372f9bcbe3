"""``itbcoach models``: list, fetch, locate and verify the pose model bundles.

A thin layer over :mod:`itbcoach.pose.models`. Progress bars go to stderr, results to
stdout; failures are :class:`itbcoach.errors.ModelError` (exit code 5).
"""

from __future__ import annotations

import argparse

from itbcoach.cli.main import load_cli_config
from itbcoach.errors import ExitCode, ModelError
from itbcoach.pose import models


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand."""
    p = sub.add_parser(
        "models", help="list, fetch, verify the pose model bundles",
        description="The MediaPipe PoseLandmarker bundles: cached in "
                    f"${models.CACHE_ENV} or the platform cache dir, downloaded from "
                    "MediaPipe's model storage or (variant full) assembled from the "
                    f"{models.FULL_ASSEMBLY.requirement} wheel on PyPI.")
    action = p.add_subparsers(dest="models_action", metavar="ACTION", required=True)

    action.add_parser("list", help="variants, whether cached, path, size, source")

    fetch = action.add_parser("fetch", help="download or assemble a bundle into the cache")
    _variant_arg(fetch)
    fetch.add_argument("--force", action="store_true",
                       help="replace the cached bundle even when it verifies")
    _quiet_arg(fetch)

    path = action.add_parser("path", help="print the path of the bundle a run would use "
                                          "(fetching it on first use)")
    _variant_arg(path)
    _quiet_arg(path)

    verify = action.add_parser("verify", help="check a bundle (default: every cached one)")
    verify.add_argument("path", nargs="?", metavar="PATH", default=None,
                        help="a .task file to check instead of the cache")
    p.set_defaults(func=run)


def _variant_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--variant", choices=models.VARIANTS, default=None,
                        help="model variant (default: config pose.model_variant)")


def _quiet_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Run ``itbcoach models ACTION``."""
    if args.models_action == "list":
        return _list()
    if args.models_action == "verify":
        return _verify(args.path)
    pose = load_cli_config(args).pose
    variant = args.variant or pose.model_variant
    if args.models_action == "fetch":
        path = models.fetch(variant, force=args.force, progress=not args.quiet)
        print(f"{variant}: {path} (sha256 {models.verify_bundle(path)})")
        return ExitCode.OK
    # path: an explicit pose.model_path wins unless --variant asks for a cached variant
    explicit = None if args.variant else (pose.model_path or None)
    print(models.resolve_model(variant, explicit, progress=not args.quiet))
    return ExitCode.OK


def _list() -> int:
    print(f"cache: {models.cache_dir()}  (${models.CACHE_ENV} overrides)")
    rows = [("variant", "cached", "size", "source", "path")]
    for m in models.cached_models():
        rows.append((m.variant, "yes" if m.cached else "no",
                     f"{m.size / 1e6:.1f} MB" if m.cached else "-",
                     m.source or ("-" if not m.cached else "unrecorded"), str(m.path)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    return ExitCode.OK


def _verify(path: str | None) -> int:
    if path is not None:
        digest = models.verify_bundle(path, what="pose model")
        known = _known(digest)
        print(f"{path}: ok, sha256 {digest}" + (f" ({known})" if known else ""))
        return ExitCode.OK
    cached = [m for m in models.cached_models() if m.cached]
    if not cached:
        raise ModelError(f"no pose model in the cache {models.cache_dir()}; run "
                         f"`itbcoach models fetch`")
    failed = []
    for m in cached:
        try:
            digest = models.verify_bundle(m.path)
        except ModelError as exc:
            print(f"{m.variant}: FAILED: {exc}")
            failed.append(m.variant)
            continue
        expected = models.manifest_sha256(m.variant, m.source)
        if expected and digest != expected:
            print(f"{m.variant}: FAILED: {m.path} has sha256 {digest}, the manifest "
                  f"records {expected}")
            failed.append(m.variant)
            continue
        note = "matches the manifest" if expected else "as recorded at download"
        print(f"{m.variant}: ok, sha256 {digest} ({note}) {m.path}")
    if failed:
        raise ModelError(f"{len(failed)} cached pose model(s) failed verification "
                         f"({', '.join(failed)}); run `itbcoach models fetch --force "
                         f"--variant {failed[0]}`")
    return ExitCode.OK


def _known(digest: str) -> str:
    if digest == models.FULL_ASSEMBLY.bundle_sha256:
        return f"the full bundle assembled from {models.FULL_ASSEMBLY.requirement}"
    for variant, sha in models.OFFICIAL_SHA256.items():
        if sha and digest == sha:
            return f"the official {variant} bundle"
    return ""
