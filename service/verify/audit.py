"""`silkvote audit DIR`: every check an observer can make with an export and nothing else.

No database, no network: the signature under the contest's public key, the result's
hash, the Merkle root rebuilt from the records (the whole tree, or a breakdown's range
with its proof), the order and shape of every record, and the result scored again with
`scoring/`. Each check says what it proved; the first bad record is named by its line.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import msgspec

from scoring import Result
from service.contests.models import Contest
from service.verify import package as files
from service.verify.breakdown import breakdown_rows
from service.verify.diagnose import diagnose
from service.verify.merkle import leaf_hashes, root_from_range, root_of
from service.verify.rescore import first_difference, rescore, tally_file
from service.verify.statement import Seal, signature_holds


class Check(msgspec.Struct, kw_only=True):
    name: str
    ok: bool
    detail: str


class AuditFailed(Exception):
    """A check that later checks cannot do without failed."""


class Audit:
    def __init__(self, folder: Path, report: Callable[[Check], None] | None = None) -> None:
        self.folder = folder
        self.checks: list[Check] = []
        self._report = report

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        done = Check(name=name, ok=ok, detail=detail)
        self.checks.append(done)
        if self._report:
            self._report(done)
        return ok

    def run(self) -> bool:
        with contextlib.suppress(AuditFailed):
            self._run()
        return self.ok

    def _require(self, name: str, ok: bool, detail: str) -> None:
        if not self.check(name, ok, detail):
            raise AuditFailed(name)

    def _run(self) -> None:
        folder = self.folder
        missing = [n for n in (files.CONTEST, files.SEAL, files.RESULT, files.RECORDS,
                               files.PROOF) if not (folder / n).is_file()]
        self._require("files", not missing, f"missing {', '.join(missing)}" if missing
                      else "contest, seal, result, records and proof present")
        try:
            seal = files.read_seal(folder)
            contest = msgspec.json.decode((folder / files.CONTEST).read_bytes(), type=Contest)
            result_bytes = (folder / files.RESULT).read_bytes()
            result = msgspec.json.decode(result_bytes, type=Result)
            proof = files.read_proof(folder)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            self._require("files", False, f"unreadable: {exc}")
            return
        st = seal.statement
        self._require("signature", signature_holds(seal),
                      f"Ed25519 signature by {seal.public_key[:16]}… over the statement"
                      if signature_holds(seal) else "the signature does not verify")
        key_ok = contest.seal_public_key in ("", seal.public_key) and st.contest == contest.id
        self.check("contest", key_ok, f"{contest.id}: the contest the seal names, signed by "
                   "its published key" if key_ok else "seal and contest definition disagree")
        result_ok = hashlib.sha256(result_bytes).hexdigest() == st.result
        self.check("result hash", result_ok, "result.json is the signed result" if result_ok
                   else "result.json is not the result the seal signed")
        # The tally (a loop over every record) runs in a second process while this one
        # hashes the tree: the two halves of the audit use both cores of a small machine.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            counted = pool.submit(tally_file, str(folder / files.RECORDS))
            lines = files.record_lines(folder)
            self._check_tree(seal, proof, lines)
            found = counted.result()
        if found.bad is not None:
            index, why = found.bad
            self.check("records", False, f"line {index + 1}: {why}: "
                       f"{lines[index][:200].decode(errors='replace')!r}")
        else:
            self.check("records", True, f"{found.votes} votes ({found.void} void) and "
                       f"{found.ballots} ballots, well formed and in tree order")
        if not proof.country:
            counts_ok = (found.votes, found.ballots) == (st.votes, st.ballots)
            self.check("counts", counts_ok, f"{st.votes} votes and {st.ballots} ballots, as "
                       "signed" if counts_ok else f"signed {st.votes} votes and {st.ballots} "
                       f"ballots, records hold {found.votes} and {found.ballots}")
        only = proof.country or None
        if only is not None:
            others = [c for c in found.counts if c != only] + [
                c for c in found.rankings if c != only]
            self.check("country", not others, f"every record is from {only}" if not others
                       else f"records from {others[0]} in {only}'s package")
        difference = first_difference(result, rescore(contest, found, only), only)
        scope = f"{only}'s sets" if only else "every set, total and place"
        self.check("rescore", difference is None, f"scoring/ on the records gives {scope} "
                   "as published" if difference is None else difference)
        if only is not None and (folder / files.BREAKDOWN).is_file():
            self._check_breakdown(lines)

    def _check_tree(self, seal: Seal, proof: files.RangeProof, lines: list[bytes]) -> None:
        st = seal.statement
        root = bytes.fromhex(st.root)
        shape_ok = bool(proof.size == st.records and 0 <= proof.first <= proof.end <= proof.size
                    and (proof.country or (proof.first, proof.end) == (0, st.records)))
        self._require("proof", shape_ok, f"records [{proof.first}, {proof.end}) of "
                      f"{proof.size}" if shape_ok else "proof.json does not fit the seal")
        leaves = leaf_hashes(lines)
        hashes = [bytes.fromhex(h) for h in proof.hashes]
        if proof.country:
            rebuilt = root_from_range(leaves, proof.size, proof.first, hashes) if leaves \
                and len(leaves) == proof.end - proof.first else b""
        else:
            rebuilt = root_of(leaves)
        if rebuilt == root:
            self.check("root", True, f"the {len(lines)} records rebuild the signed root "
                       f"{st.root[:16]}…")
            return
        self.check("root", False, self._first_bad_record(proof, hashes, root, leaves, lines))

    def _first_bad_record(self, proof: files.RangeProof, hashes: list[bytes], root: bytes,
                          leaves: list[bytes], lines: list[bytes]) -> str:
        """Which record breaks the root, told by the sealed leaves (leaves.bin), once
        those are shown to rebuild the signed root themselves."""
        try:
            sealed = files.read_leaves(self.folder)
        except (OSError, ValueError):
            return "the records do not rebuild the signed root (no usable leaves.bin)"
        if not sealed or (root_from_range(sealed, proof.size, proof.first, hashes)
                          if proof.country else root_of(sealed)) != root:
            return "the records do not rebuild the signed root, nor does leaves.bin"
        at = next((i for i, (a, b) in enumerate(zip(leaves, sealed, strict=False))
                   if a != b), min(len(leaves), len(sealed)))
        found = diagnose(proof.first + at, leaves[at:], lines[at:], sealed[at:])
        return (f"line {at + 1} of {files.RECORDS}: {found.kind}: "
                + found.message.replace("ledger row", "record").replace("the ledger",
                                                                         "the records"))

    def _check_breakdown(self, lines: list[bytes]) -> None:
        import csv
        import io

        text = (self.folder / files.BREAKDOWN).read_text(encoding="utf-8")
        published = [tuple(row) for row in csv.reader(io.StringIO(text))][1:]
        mine = [tuple(str(v) for v in row) for row in breakdown_rows(lines)]
        ok = published == mine
        self.check("breakdown", ok, f"{len(mine)} entry × channel × minute cells match the "
                   "records" if ok else "breakdown.csv does not match the records")
