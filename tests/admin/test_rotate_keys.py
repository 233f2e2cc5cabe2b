"""`crier admin rotate-keys` (README: Key rotation): every stored secret moves to the newest key.

The command runs as operators run it, in a subprocess against the test database; the test process
switches CRIER_ENCRYPTION_KEYS around it to play the steps of the procedure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update

from crier.admin import key_rotation
from crier.core import crypto
from crier.models import Layer, SocialAccount

ROOT = Path(__file__).resolve().parents[2]
OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def rotate_keys(*configured: str, batch_size: int = 2) -> tuple[int, dict, str]:
    """`crier admin rotate-keys` with these keys: exit code, printed summary, stderr."""
    env = {
        **os.environ,
        "CRIER_ENCRYPTION_KEYS": ",".join(configured),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", "crier", "admin", "rotate-keys", "--batch-size", str(batch_size)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    return done.returncode, json.loads(done.stdout or "{}"), done.stderr


async def stored_secrets(session) -> dict[str, str]:
    """Every encrypted column, by `<id>.<column>`, as PostgreSQL holds it now."""
    session.expire_all()
    found = {}
    for model, columns in key_rotation.ENCRYPTED_COLUMNS.items():
        for row in (await session.execute(select(model.id, *(getattr(model, c) for c in columns)))).all():
            found.update(
                {f"{row.id}.{column}": value for column, value in zip(columns, row[1:], strict=True) if value}
            )
    return found


@pytest.fixture
def old_key(encryption_keys) -> None:
    encryption_keys(OLD)


@pytest.fixture
async def secrets_under_old_key(old_key, admin):
    """A tenant (TikTok and Instagram accounts), two more accounts and a managed layer, all under OLD."""
    tenant = await admin.tenant()
    project_id = tenant.project["id"]
    layer = await admin.managed_layer(project_id, secret="whsec-rotate-me")
    await admin.tiktok_account(project_id, handle="managed", accessToken="act.managed", layerId=layer["id"])
    await admin.tiktok_account(
        project_id, handle="second", accessToken="act.second", refreshToken="rft.second"
    )
    endpoint = await admin.client.post(
        "/v1/webhook-endpoints",
        headers=tenant.headers,
        json={"url": "https://hooks.example.com/x", "events": ["test.ping"]},
    )
    rotated = await admin.client.post(
        f"/v1/webhook-endpoints/{endpoint.json()['endpoint']['id']}/rotate-secret", headers=tenant.headers
    )  # the current and the previous webhook secret
    assert rotated.status_code == 200
    return {"layer": "whsec-rotate-me"}


async def test_rotation_moves_every_secret_to_the_newest_key_so_the_old_one_can_go(
    secrets_under_old_key, encryption_keys, session
):
    before = await stored_secrets(session)
    assert len(before) == 10  # 4 access tokens, 3 refresh tokens, 1 layer secret, 2 webhook secrets
    old = Fernet(OLD.encode())
    plaintexts = {name: old.decrypt(value.encode()).decode() for name, value in before.items()}

    code, summary, stderr = rotate_keys(NEW, OLD)

    assert code == 0, stderr
    assert summary == {
        "social_accounts": {"rotated": 7, "alreadyCurrent": 0, "undecryptable": []},
        "layers": {"rotated": 1, "alreadyCurrent": 0, "undecryptable": []},
        "webhook_endpoints": {"rotated": 2, "alreadyCurrent": 0, "undecryptable": []},
    }
    encryption_keys(NEW)  # the old key is dropped
    after = await stored_secrets(session)
    assert {name: crypto.decrypt(value) for name, value in after.items()} == plaintexts
    for value in after.values():
        with pytest.raises(InvalidToken):
            Fernet(OLD.encode()).decrypt(value.encode())


async def test_a_second_run_changes_nothing(secrets_under_old_key, session):
    assert rotate_keys(NEW, OLD)[0] == 0
    rotated = await stored_secrets(session)

    code, summary, _ = rotate_keys(NEW, OLD, batch_size=500)

    assert code == 0
    assert summary["social_accounts"] == {"rotated": 0, "alreadyCurrent": 7, "undecryptable": []}
    assert summary["layers"] == {"rotated": 0, "alreadyCurrent": 1, "undecryptable": []}
    assert summary["webhook_endpoints"] == {"rotated": 0, "alreadyCurrent": 2, "undecryptable": []}
    assert await stored_secrets(session) == rotated  # byte for byte: nothing was rewritten


async def test_a_secret_whose_key_is_gone_is_reported_kept_and_fails_the_command(
    secrets_under_old_key, session
):
    before = await stored_secrets(session)

    code, summary, stderr = rotate_keys(NEW)  # the old key was dropped too early

    assert code == 1
    assert "no longer in CRIER_ENCRYPTION_KEYS" in stderr
    stuck = [name for table in summary.values() for name in table["undecryptable"]]
    assert sorted(stuck) == sorted(before)
    assert await stored_secrets(session) == before


async def test_a_token_a_worker_refreshes_meanwhile_is_not_overwritten(
    secrets_under_old_key, encryption_keys, session, monkeypatch
):
    from crier.core.db import get_sessionmaker

    encryption_keys(NEW, OLD)
    account_id = await session.scalar(select(SocialAccount.id).where(SocialAccount.handle == "second"))
    refreshed = crypto.encrypt("act.refreshed-by-the-worker")
    async with get_sessionmaker()() as rotation:
        read_everything_already, execute = [], rotation.execute

        async def worker_refreshes_before_the_first_write(statement, *args, **kwargs):
            if getattr(statement, "is_update", False) and not read_everything_already:
                read_everything_already.append(True)
                async with get_sessionmaker()() as worker:  # its own transaction, committed at once
                    await worker.execute(
                        update(SocialAccount)
                        .where(SocialAccount.id == account_id)
                        .values(access_token_encrypted=refreshed)
                    )
                    await worker.commit()
            return await execute(statement, *args, **kwargs)

        monkeypatch.setattr(rotation, "execute", worker_refreshes_before_the_first_write)
        _, tally = await key_rotation.rotate_batch(rotation, model=SocialAccount, after="", limit=100)
        await rotation.commit()

    session.expire_all()
    account = await session.get(SocialAccount, account_id)
    assert crypto.decrypt(account.access_token_encrypted) == "act.refreshed-by-the-worker"
    assert tally.rotated == 6 and tally.already_current == 1  # the refreshed token counts as current


async def test_the_layer_secret_still_signs_after_rotation(secrets_under_old_key, encryption_keys, session):
    assert rotate_keys(NEW, OLD)[0] == 0
    encryption_keys(NEW)

    layer = await session.scalar(select(Layer))
    assert crypto.decrypt(layer.signing_secret_encrypted) == secrets_under_old_key["layer"]
