"""The emulator's world (POST /_sgguard/world, /credentials, /inbox), the tally of sgguard's
own requests, and the IAM tally check's verdicts."""

from __future__ import annotations

import json
import os
import urllib.error

import pytest
from botocore.config import Config

from sgguard_world import iam_check
from sgguard_world.control import EmulatorProcess
from sgguard_world.files import actions_called, load_hub_actions
from sgguard_world.org import client


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    tallies = tmp_path_factory.mktemp("tallies")
    emulator = EmulatorProcess(env={**os.environ, "SGGUARD_TALLY_DIR": str(tallies)})
    yield emulator, tallies
    emulator.stop()


def test_requests_before_the_world_are_refused(emulator):
    proc, _ = emulator
    for path in ("credentials", "inbox"):
        with pytest.raises(urllib.error.HTTPError) as error:
            proc.control("POST", path, {"account": "111111111111"})
        assert error.value.code == 409


def test_the_world_has_its_ous_members_topic_and_inbox(emulator):
    proc, _ = emulator
    spec = {
        "ous": ["prod", "dev", {"name": "sandbox", "parent": "dev"}],
        "members": [{"name": "a", "ou": "prod"}, {"name": "b", "ou": "sandbox"}, "c"],
    }
    world = proc.control("POST", "world", spec)
    assert list(world["accounts"]) == ["a", "b", "c"]
    assert world["members"] == list(world["accounts"].values())
    assert world["hub"] not in world["members"]
    organizations = client("organizations", proc.proxy)
    children = organizations.list_children(ParentId=world["ous"]["dev"], ChildType="ORGANIZATIONAL_UNIT")
    assert [c["Id"] for c in children["Children"]] == [world["ous"]["sandbox"]]
    for ou, name in (("prod", "a"), ("sandbox", "b")):
        listed = organizations.list_accounts_for_parent(ParentId=world["ous"][ou])["Accounts"]
        assert [a["Id"] for a in listed] == [world["accounts"][name]]
    below_root = organizations.list_accounts_for_parent(ParentId=world["root"])["Accounts"]
    assert world["accounts"]["c"] in [a["Id"] for a in below_root]

    with pytest.raises(urllib.error.HTTPError) as error:
        proc.control("POST", "world", spec)
    assert error.value.code == 409

    credentials = proc.control("POST", "credentials", {"account": world["accounts"]["b"]})
    assert set(credentials) == {"AccessKeyId", "SecretAccessKey", "SessionToken"}
    who = client("sts", proc.proxy, credentials=credentials).get_caller_identity()
    assert who["Account"] == world["accounts"]["b"]

    assert proc.control("POST", "inbox") == {"messages": []}
    client("sns", proc.proxy).publish(TopicArn=world["topic_arn"], Subject="hello", Message='{"n": 1}')
    (envelope,) = proc.control("POST", "inbox")["messages"]
    assert (envelope["Subject"], json.loads(envelope["Message"])) == ("hello", {"n": 1})
    assert proc.control("POST", "inbox") == {"messages": []}, "drained"


def test_sgguard_requests_are_tallied_and_kept_over_resets(emulator):
    proc, _ = emulator
    sgguard = Config(user_agent_extra="app/sgguard")
    before = proc.counts()["sgguard"].get("sts:GetCallerIdentity", 0)
    client("sts", proc.proxy, config=sgguard).get_caller_identity()
    client("sts", proc.proxy).get_caller_identity()  # not sgguard's
    client("sts", proc.proxy, config=Config(user_agent_extra="app/sgguardian")).get_caller_identity()
    proc.reset()
    assert proc.counts()["counts"] == {}
    assert proc.counts()["sgguard"]["sts:GetCallerIdentity"] == before + 1


def test_the_tally_is_written_on_exit(emulator):
    proc, tallies = emulator
    expected = proc.counts()["sgguard"]
    assert expected
    assert proc.stop() == 0
    (written,) = tallies.glob("emulator-*.json")
    assert json.loads(written.read_text()) == {"sgguard": expected}


def test_iam_check_accepts_exactly_the_listed_calls():
    assert iam_check.problems(actions_called()) == []


def test_iam_check_finds_an_ungranted_call_and_an_unreached_grant():
    called = actions_called() | {"ec2:DeleteSecurityGroup", "sns:CreateTopic"}
    called -= {"organizations:ListChildren"}
    found = iam_check.problems(called)
    assert any("ec2:DeleteSecurityGroup is called but the spoke remediation role" in p for p in found), found
    assert any("ec2:DeleteSecurityGroup is called but the hub Lambda role" in p for p in found), found
    assert any("sns:CreateTopic is called but the hub Lambda role" in p for p in found), found
    assert any("organizations:ListChildren is granted but no test" in p for p in found), found
    assert any("the action files list" in p for p in found), found


def test_iam_check_needs_tallies(tmp_path, capsys):
    assert iam_check.main([str(tmp_path)]) == 1
    assert "no tally" in capsys.readouterr().err
    (tmp_path / "a.json").write_text(json.dumps({"sgguard": {a: 1 for a in actions_called()}}))
    assert iam_check.main([str(tmp_path)]) == 0
    assert not load_hub_actions()["not_reached_in_the_emulator"], "update the test when this changes"
