"""Real PostgreSQL, real faults: a worker delivering 300 posts while its database connections
are terminated again and again (`pg_terminate_backend`). Each post exactly once, all recorded
`sent`, none left `sending`."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from tests.helpers import Project, ago
from tests.processes import herald, herald_env, started

ARTICLES = 300


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(400)
def test_terminated_connections_lose_and_double_nothing(
    project: Project, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    psycopg = pytest.importorskip("psycopg")
    database = pg_url.rsplit("/", 1)[1]
    project.write_config(
        database=pg_url,
        worker={"scan_interval": "1s"},
        # a claim whose answer was lost with its connection is free again after 4 s
        publishing={"lease": "4s", "concurrency": 4},
    )
    for i in range(ARTICLES):
        project.article(f"a{i:03d}.md", f"Article {i}", ago(minutes=30), id=f"a{i:03d}")

    stop = threading.Event()
    kills = 0

    def terminate_again_and_again() -> None:
        nonlocal kills
        with psycopg.connect(pg_url.rsplit("/", 1)[0] + "/test", autocommit=True) as admin:
            while not stop.wait(0.05):  # often enough to hit a fast machine's pass too
                kills += len(
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()",
                        (database,),
                    ).fetchall()
                )

    log_path = project.root / "worker.log"
    env = herald_env(project.config)
    killer = threading.Thread(target=terminate_again_and_again, daemon=True)
    with started(herald("run"), cwd=project.root, env=env, log_path=log_path) as proc:
        try:
            end = time.monotonic() + 30
            while "started" not in log_path.read_text():  # the schema is in place
                assert proc.poll() is None and time.monotonic() < end, log_path.read_text()
                time.sleep(0.05)
            killer.start()
            end = time.monotonic() + 240
            while len(project.outbox_lines()) < ARTICLES and time.monotonic() < end:
                assert proc.poll() is None, log_path.read_text()[-3000:]
                time.sleep(0.5)
            stop.set()
            killer.join()
            # then, with the database left alone, every delivery settles as `sent`
            end = time.monotonic() + 60
            while time.monotonic() < end:
                counts = project.status()["channels"]["outbox"]["counts"]
                if counts["sent"] == ARTICLES:
                    break
                time.sleep(1.0)
        finally:
            stop.set()
    lines = Counter(line["article"]["id"] for line in project.outbox_lines())
    counts = project.status()["channels"]["outbox"]["counts"]
    with capsys.disabled():
        print(
            f"\npg faults: {kills} connections terminated; outbox {sum(lines.values())} lines "
            f"for {len(lines)} articles; sent-log {counts}"
        )
    assert kills >= 10, "the connections were hardly terminated: the test proved nothing"
    assert set(lines) == {f"a{i:03d}" for i in range(ARTICLES)}
    assert set(lines.values()) == {1}, [a for a, n in lines.items() if n > 1]
    assert counts["sent"] == ARTICLES, counts
    assert counts["sending"] == 0 and counts["unknown"] == 0 and counts["failed"] == 0
