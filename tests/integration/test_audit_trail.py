from __future__ import annotations

import threading

from sqlalchemy import Engine

from storage.audit_repository import AuditRepository


def test_concurrent_appends_all_land_in_one_unbroken_chain(engine: Engine) -> None:
    audit = AuditRepository(engine)
    other_process = AuditRepository(engine)  # a second writer with its own lock, as another process has
    errors: list[BaseException] = []

    def write(repo: AuditRepository, who: int) -> None:
        try:
            for i in range(30):
                repo.append(f"user{who}", "login", f"t{i}", ip="10.0.0.1")
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(audit if n % 2 else other_process, n)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert audit.count() == 240
    assert audit.verify() is None
    assert [e.seq for e in audit.entries()] == list(range(1, 241))


def test_long_values_are_stored_as_hashed(engine: Engine) -> None:
    audit = AuditRepository(engine)
    audit.append("x", "request.refused" + "!" * 100, "/path", ip="2001:db8::" + "f" * 100, outcome="denied" * 5)
    assert audit.verify() is None
