#!/usr/bin/env python3
"""Mutation check: does the test suite catch deliberate bugs in the fast paths and the run logic?

Copies the work tree (as it is, uncommitted changes included) to a scratch directory, builds it once
(release), then for each mutant below: applies the one-line bug, rebuilds, runs the whole ctest suite
(the release half of the README's test command), and restores the file. A mutant is *caught* when
at least one test fails. Prints a table and exits non-zero if any mutant survives, or if a mutant no
longer applies (its target line changed: update the mutant, do not delete it).

    python3 scripts/mutation_check.py [--keep] [--only NAME ...]

About 1 to 2 minutes per mutant on 2 cores, plus one full build; see docs/testing.md.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (name, file, exact text, replacement): each text must occur exactly once in its file.
MUTANTS = [
    ("split-K drops its last chunk", "autograd/blas.cpp",
     "parallel_chunks(chunks, 1, [&](std::size_t c0, std::size_t c1) {",
     "parallel_chunks(chunks - 1, 1, [&](std::size_t c0, std::size_t c1) {"),
    ("masked_fill leaks gradient into masked positions", "autograd/ops_nn.cpp",
     "if (!mask.values[(*offsets)[k]]) dx[k] += g[k];",
     "dx[k] += g[k];"),
    ("GELU derivative with a wrong coefficient", "autograd/kernels.hpp",
     "(T(1) + T(3 * kC) * v * v)",
     "(T(1) + T(2 * kC) * v * v)"),
    ("causal attention block boundary off by one", "autograd/fused_attention.cpp",
     "r1 - r0, HS, r1, T(1), h.p.data()",
     "r1 - r0, HS, r1 - 1, T(1), h.p.data()"),
    ("Adam's bias correction one step off", "nn/optim.cpp",
     "const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(t));",
     "const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(t + 1));"),
    ("a resume that restarts from step 0", "experiments/train/trainer.cpp",
     "step = saved_step = nn::load_training_state(ckpt, model, opt, rng.data, meta, &saved);",
     "saved_step = nn::load_training_state(ckpt, model, opt, rng.data, meta, &saved);"),
    ("attention's backward rebuilds P with a wrong 1/sum", "autograd/attention_softmax.hpp",
     "sm(stats.shift), inv(stats.inv);",
     "sm(stats.shift), inv(stats.inv * T(1.001));"),
    ("GELU's short last SIMD batch stores one element less", "autograd/kernels.hpp",
     "std::copy(buf, buf + count, p);",
     "std::copy(buf, buf + count - 1, p);"),
    ("libxsmm's transposed-B pack skips the last column", "autograd/gemm_xsmm.cpp",
     "libxsmm_otrans(out, B, sizeof(T), libxsmm_blasint(K),",
     "libxsmm_otrans(out, B, sizeof(T), libxsmm_blasint(K) - 1,"),
    ("libxsmm's kernel blocks skip a short last row block", "autograd/gemm_xsmm.cpp",
     "for (std::size_t m0 = 0; m0 < M; m0 += mb)",
     "for (std::size_t m0 = 0; m0 + mb <= M; m0 += mb)"),
    ("libxsmm's later depth blocks overwrite C instead of adding to it", "autograd/gemm_xsmm.cpp",
     "d > 0 || row_init ? T(1) : direct ? beta : T(0)",
     "row_init ? T(1) : d > 0 ? T(0) : direct ? beta : T(0)"),
    ("libxsmm's blocks get the bias in the first column block only", "autograd/gemm_xsmm.cpp",
     "if (row_init && k0 == 0) {",
     "if (row_init && k0 == 0 && n0 == 0) {"),
    ("gelu_linear's backward skips a short last tile", "autograd/fused_sublayers.cpp",
     "for (std::size_t t = r0; t < r0 + rows; t += kTileRows)\n          gelu_linear_backward_tile(",
     "for (std::size_t t = r0; t + kTileRows <= r0 + rows; t += kTileRows)\n          gelu_linear_backward_tile("),
    ("ln_mlp's backward skips a short last tile", "autograd/fused_sublayers.cpp",
     "for (std::size_t t = r0; t < r0 + rows; t += kTileRows) {",
     "for (std::size_t t = r0; t + kTileRows <= r0 + rows; t += kTileRows) {"),
    ("gelu_linear's later tiles overwrite their chunk's dW", "autograd/fused_sublayers.cpp",
     "T(!first), dw, IN);",
     "T(0), dw, IN);"),
    ("ln_linear's later tiles overwrite their chunk's dW", "autograd/fused_sublayers.cpp",
     "T(!first), dw, C);",
     "T(0), dw, C);"),
    ("the fused ops' bias gradients leave out each tile's last row", "autograd/fused_sublayers.cpp",
     "for (std::size_t r = 0; r < rows; ++r)\n    for (std::size_t c = 0; c < cols; ++c) sums[c]",
     "for (std::size_t r = 0; r + 1 < rows; ++r)\n    for (std::size_t c = 0; c < cols; ++c) sums[c]"),
    ("ln_mlp's residual gradient misses its last element", "autograd/fused_sublayers.cpp",
     "if (dx) pass_gradient(dx, g, R * C);",
     "if (dx) pass_gradient(dx, g, R * C - 1);"),
    ("chunk partials added in order leave out the last chunk", "autograd/kernels.hpp",
     "for (std::size_t c = 1; c < n; ++c) sum += partial[c * size + i];",
     "for (std::size_t c = 1; c + 1 < n; ++c) sum += partial[c * size + i];"),
    ("libxsmm's scratch path drops beta * C", "autograd/gemm_xsmm.cpp",
     "(beta == T(0) ? T(0) : beta * c)",
     "T(0)"),
    ("the micro-batch sum leaves out the last micro-batch", "experiments/train/data_parallel.cpp",
     "for (std::size_t i = 1; i < m; ++i) sum += gradient_of(i)[at + k];",
     "for (std::size_t i = 1; i + 1 < m; ++i) sum += gradient_of(i)[at + k];"),
]


def run(cmd, cwd, log):
    with open(log, "w") as out:
        return subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT).returncode


def copy_tree(dst):
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = os.path.join(ROOT, f)
        if not os.path.isfile(src):
            continue  # deleted in the work tree
        os.makedirs(os.path.dirname(os.path.join(dst, f)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, f))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("--only", nargs="*", help="run only the mutants whose name contains one of these words")
    args = ap.parse_args()
    mutants = [m for m in MUTANTS if not args.only or any(w in m[0] for w in args.only)]

    scratch = tempfile.mkdtemp(prefix="icalign-mutants-")
    src, build = os.path.join(scratch, "src"), os.path.join(scratch, "src", "build")
    copy_tree(src)
    jobs = str(os.cpu_count() or 2)
    print(f"mutation check in {scratch}: building once ...", flush=True)
    t0 = time.time()
    if run(["cmake", "-S", ".", "-B", "build", "-DCMAKE_BUILD_TYPE=Release"], src, os.path.join(scratch, "cmake.log")) or \
       run(["cmake", "--build", "build", "-j", jobs], src, os.path.join(scratch, "build.log")):
        sys.exit(f"the unmutated tree does not build: see {scratch}/build.log")
    if run(["ctest", "-j", jobs], build, os.path.join(scratch, "ctest-clean.log")):
        sys.exit(f"the unmutated tree fails its tests: see {scratch}/ctest-clean.log")
    print(f"clean build and suite pass ({time.time() - t0:.0f} s)\n", flush=True)

    results = []
    for i, (name, path, old, new) in enumerate(mutants):
        target = os.path.join(src, path)
        original = open(target).read()
        if original.count(old) != 1:
            results.append((name, f"DOES NOT APPLY: the text occurs {original.count(old)} times in {path}", 0.0))
            continue
        t = time.time()
        open(target, "w").write(original.replace(old, new))
        try:
            if run(["cmake", "--build", "build", "-j", jobs], src, os.path.join(scratch, f"build-{i}.log")):
                verdict = f"DID NOT BUILD (see build-{i}.log): make it a bug the compiler accepts"
            else:
                log = os.path.join(scratch, f"ctest-{i}.log")
                failed = run(["ctest", "-j", jobs], build, log)
                failing = [l.split(" - ", 1)[1].strip() for l in open(log) if l.startswith("\t") and " - " in l]
                verdict = ("caught by " + str(len(failing)) + " test(s): " + "; ".join(failing[:3])) if failed else "NOT CAUGHT"
        finally:
            open(target, "w").write(original)
        results.append((name, verdict, time.time() - t))
        print(f"{name}: {verdict} ({results[-1][2]:.0f} s)", flush=True)
    run(["cmake", "--build", "build", "-j", jobs], src, os.path.join(scratch, "build-restored.log"))

    print("\n| mutant | result | seconds |\n|---|---|---|")
    for name, verdict, secs in results:
        print(f"| {name} | {verdict} | {secs:.0f} |")
    survived = [r for r in results if not r[1].startswith("caught")]
    print(f"\n{len(results) - len(survived)} of {len(results)} mutants caught; total {time.time() - t0:.0f} s")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(1 if survived else 0)


if __name__ == "__main__":
    main()
