"""The Nostr adapter against loopback relays that verify ids and signatures as real ones do."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError

from bot.channels import registry
from bot.channels.nostr import NostrChannel, NostrOptions
from bot.channels.nostr.keys import Signer, bech32_decode, bech32_encode, verify
from bot.errors import AuthError, RateLimited, TooLong, TransientError
from bot.models import Post, Receipt
from bot.tid import key_time
from tests.channels.conftest import KEY, article_factory, expect_failure, run_channel
from tests.fakes.nostr_relay import FakeRelay

# NIP-19's own example key pair
SECRET_HEX = "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"
NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
PUBKEY = "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"

article = article_factory(tags=("testing", "Open Source"))


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"ws://127.0.0.1:{port}"


def channel_on(relays: list[str], **options: Any) -> Any:
    opts = NostrOptions(**{"private_key": NSEC, "relays": relays, "timeout": 2.0, **options})
    return lambda context: NostrChannel("nostr-main", opts, context, None)


def run(relays: list[str], body: Any, **options: Any) -> Any:
    return run_channel(channel_on(relays, **options), body)


def send(
    relays: list[str], item: Any = None, key: str = KEY, **options: Any
) -> tuple[Post, Receipt]:
    item = item or article()

    async def body(channel: NostrChannel) -> tuple[Post, Receipt]:
        post = channel.render(item)
        return post, await channel.send(post, item, key)

    return run(relays, body, **options)  # type: ignore[no-any-return]


def secrets_absent(error: BaseException) -> None:
    for secret in (SECRET_HEX, NSEC, NSEC[5:20], SECRET_HEX[:16]):
        assert secret not in str(error) and secret not in repr(error)


def test_nip19_keys_round_trip_and_the_type_is_registered() -> None:
    assert Signer.from_key(NSEC).pubkey == PUBKEY == Signer.from_key(SECRET_HEX).pubkey
    assert bech32_decode(bech32_encode("note", b"\x01" * 32)) == ("note", b"\x01" * 32)
    assert registry.get("nostr") is NostrChannel


def test_a_signed_note_reaches_every_relay_with_the_article_link_image_and_tags() -> None:
    with FakeRelay() as one, FakeRelay() as two:
        post, receipt = send([one.url, two.url])
        for relay in (one, two):
            (event,) = relay.stored()
            assert verify(event) and event["pubkey"] == PUBKEY and event["kind"] == 1
            assert event["id"] == receipt.post_id
    assert event["content"] == post.text
    assert event["content"].startswith("Testing against loopback emulators\n\n")
    assert "Read the article\nhttps://blog.example/articles/loopback-testing/" in post.text
    assert post.text.endswith("\n\nhttps://blog.example/img/hero.jpg")  # clients show it inline
    assert ["r", "https://blog.example/articles/loopback-testing/"] in event["tags"]
    assert ["t", "testing"] in event["tags"] and ["t", "opensource"] in event["tags"]
    imeta = next(t for t in event["tags"] if t[0] == "imeta")
    assert imeta[1] == "url https://blog.example/img/hero.jpg"
    # created_at is the delivery key's time, so every attempt builds the same event
    assert event["created_at"] == int(key_time(KEY) or 0)
    assert receipt.url == "https://njump.me/" + bech32_encode("note", bytes.fromhex(event["id"]))


def test_a_resend_after_a_crash_is_the_same_event_and_no_second_note() -> None:
    with FakeRelay() as relay:
        _, first = send([relay.url])
        _, again = send([relay.url])  # a new process: new signature randomness, same id
        assert again.post_id == first.post_id
        assert len(relay.stored()) == 1 and len(relay.received) == 2
        assert relay.received[0]["sig"] != relay.received[1]["sig"]
        later = "3lbzq7xqdfk2a"  # another delivery (made a few seconds later): another event
        _, other = send([relay.url], key=later)
        assert other.post_id != first.post_id


def test_without_an_image_the_note_ends_with_the_link() -> None:
    with FakeRelay() as relay:
        post, _ = send([relay.url], image=False)
        assert post.text.endswith(
            "https://blog.example/articles/loopback-testing/\n\n#testing #OpenSource"
        )
        assert not [t for t in relay.stored()[0]["tags"] if t[0] == "imeta"]


def test_a_long_description_is_fitted_to_max_characters_url_kept() -> None:
    long = article(description="word " * 800)
    with FakeRelay() as relay:
        post, _ = send([relay.url], long, max_characters=300)
        assert post.length <= 300 and post.limit == 300
        assert "https://blog.example/articles/loopback-testing/" in post.text
        assert "…" in post.text
        assert relay.stored()[0]["content"] == post.text


def test_a_relay_refusing_for_length_is_too_long_and_refit_counts_bytes() -> None:
    text_heavy = article(description="日本語の説明です。" * 60)
    with FakeRelay(max_content_length=400) as relay:
        error = expect_failure(lambda: send([relay.url], text_heavy), TooLong)
        assert "content too long" in str(error)

        async def again(channel: NostrChannel) -> tuple[Post | None, Receipt]:
            post = channel.render(text_heavy)
            fitted = channel.refit(post, text_heavy, str(error) + " (max 400)")
            assert fitted is not None
            return fitted, await channel.send(fitted, text_heavy, KEY)

        fitted, receipt = run([relay.url], again)
        assert fitted is not None and len(fitted.text.encode()) <= 400
        assert relay.stored()[0]["id"] == receipt.post_id


def test_the_quorum_decides_and_unreachable_relays_are_named() -> None:
    down = closed_port_url()
    with FakeRelay() as relay:
        _, receipt = send([relay.url, down], quorum=1)
        assert relay.stored()[0]["id"] == receipt.post_id
        error = expect_failure(lambda: send([relay.url, down], quorum=2), TransientError)
    assert "accepted by 1 of 2 relays (2 needed)" in str(error)
    assert f"{down}: unreachable" in str(error)
    secrets_absent(error)


def test_a_silent_relay_times_out_as_transient() -> None:
    with FakeRelay() as relay:
        relay.silent = True
        error = expect_failure(lambda: send([relay.url], timeout=0.5), TransientError)
    assert "no OK within 0.5 s" in str(error)


def test_a_key_the_relays_do_not_admit_is_an_auth_error_without_the_key() -> None:
    with FakeRelay(admitted={"00" * 32}) as relay:
        error = expect_failure(lambda: send([relay.url]), AuthError)
    assert "blocked: this pubkey is not admitted here" in str(error)
    assert "private_key" in str(error)
    secrets_absent(error)


def test_rate_limited_relays_ask_for_a_wait() -> None:
    with FakeRelay() as relay:
        relay.refuse_next("rate-limited", "slow down")
        error = expect_failure(lambda: send([relay.url]), RateLimited)
        assert error.retry_at is not None
        _, receipt = send([relay.url])  # the next attempt goes through
        assert relay.stored()[0]["id"] == receipt.post_id


def test_a_relay_that_echoes_the_key_in_its_refusal_shows_none_of_it() -> None:
    with FakeRelay() as relay:
        relay.refuse_next("error", f"bad key {NSEC} / {SECRET_HEX}")
        error = expect_failure(lambda: send([relay.url]), TransientError.__base__)  # type: ignore[arg-type]
    secrets_absent(error)
    assert "bad key" in str(error)


def test_reply_tags_the_root_and_delete_asks_relays_to_remove_it() -> None:
    with FakeRelay() as relay:
        _, receipt = send([relay.url])

        async def lifecycle(channel: NostrChannel) -> Receipt:
            comment = channel.render_with("More on this: {url}", article())
            answer = await channel.reply(comment, article(), receipt, "3lbzq7wqdfk2c")
            await channel.delete(article(), receipt, "3lbzq7wqdfk2d")
            return answer

        answer = run([relay.url], lifecycle)
        reply = relay.events[answer.post_id]
        assert ["e", receipt.post_id, relay.url, "root", PUBKEY] in reply["tags"]
        assert ["p", PUBKEY] in reply["tags"]
        assert reply["content"].startswith("More on this: https://blog.example/")
        (deletion,) = relay.stored(kind=5)
        assert ["e", receipt.post_id] in deletion["tags"] and ["k", "1"] in deletion["tags"]
        assert receipt.post_id not in relay.events  # the relay honoured the request
    assert NostrChannel.can == {"delete", "reply"}


BODY = "# Loopback\n\nSee ![diagram](img/flow.png) and [the code](https://git.example/x).\n"


def test_long_form_is_the_whole_markdown_body_as_kind_30023() -> None:
    item = article()
    absolute = BODY.replace(
        "img/flow.png", "https://blog.example/articles/loopback-testing/img/flow.png"
    )

    async def body(channel: NostrChannel) -> tuple[Post, Post, Receipt]:
        channel.context = replace(channel.context, load_body=lambda a: BODY)
        post = channel.render(item)
        note = channel.render_with("Updated: {title} {url}", item)  # corrections stay notes
        return post, note, await channel.send(post, item, KEY)

    with FakeRelay() as relay:
        post, note, receipt = run([relay.url], body, long_form=True)
        event = relay.events[receipt.post_id]
    assert event["content"] == absolute.strip() == post.text
    assert post.length == len(post.text.encode()) and post.limit == 65_536
    assert note.text.startswith("Updated: Testing against loopback") and note.limit == 1000
    assert channel_refit_is_none(post)


def channel_refit_is_none(post: Post) -> bool:
    async def refit(channel: NostrChannel) -> Post | None:
        return channel.refit(post, article(), "invalid: too large")

    return run(["wss://relay.example"], refit, long_form=True) is None


def test_long_form_is_a_kind_30023_article_addressed_by_the_article_id() -> None:
    with FakeRelay() as relay:
        _, receipt = send([relay.url], long_form=True)
        event = relay.events[receipt.post_id]
    assert event["kind"] == 30023
    assert ["d", "a1"] in event["tags"]
    assert ["title", "Testing against loopback emulators"] in event["tags"]
    assert ["image", "https://blog.example/img/hero.jpg"] in event["tags"]


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe6", "bad checksum"),
        ("npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg", "public key"),
        ("zz" + SECRET_HEX[2:], "nsec1... key or 64 hex digits"),
        ("00" * 32, "not a valid secp256k1 private key"),
    ],
)
def test_a_bad_key_is_refused_when_the_config_loads_without_showing_it(
    key: str, problem: str
) -> None:
    with pytest.raises(ValidationError) as info:
        NostrOptions(private_key=key, relays=["wss://relay.example"])
    assert problem in str(info.value)
    assert key not in str(info.value)


def test_options_refuse_a_quorum_above_the_relays_and_non_websocket_urls() -> None:
    with pytest.raises(ValidationError, match="quorum 3 is more than the 2 relays"):
        NostrOptions(private_key=NSEC, relays=["wss://a.example", "wss://b.example"], quorum=3)
    with pytest.raises(ValidationError, match="is not a relay URL"):
        NostrOptions(private_key=NSEC, relays=["https://a.example"])


def test_credentials_name_the_key_in_every_spelling() -> None:
    async def creds(channel: NostrChannel) -> list[str]:
        await asyncio.sleep(0)
        return channel.credentials()

    found = run(["wss://relay.example"], creds, private_key=SECRET_HEX)
    assert SECRET_HEX in found and NSEC in found
