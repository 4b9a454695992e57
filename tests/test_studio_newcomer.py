"""Issue 22: what a newcomer typed, pressed and was told in the conversation.

On the in-memory engine (tests/fake_engine.py) and a real SQLite file: the conversation
is what these tests are about.
"""

from __future__ import annotations

from fake_engine import FakeEngine
from studio_harness import Chat, astronaut_set

from bot.studio.core.core import Studio
from bot.studio.core.events import Who

WHO = Who("terminal", "ann", "ann-chat", "Ann")


async def _ready(chat: Chat) -> None:
    await chat.send("/start")
    await chat.press("I agree")
    await chat.files(astronaut_set())
    await chat.press("Done")


async def test_typed_button_words_press_the_button_never_become_the_prompt(
    fake_studio: Studio,
) -> None:
    """Item 17: `skip` gave "Described as: skip", `back` became the attire, `cancel` the
    setting, "Type my own" the composition, and `library` the bare word."""
    chat = Chat(fake_studio, WHO)
    await _ready(chat)
    await chat.press("Watercolor")
    assert "What should you wear?" in chat.text()
    await chat.send("back")  # at the attire step: Back to the style
    assert "choose a style" in chat.text(), chat.text()
    await chat.send("watercolor")
    await chat.send("a wool coat")
    await chat.send("library")  # the preset's name: its wording, not the bare word
    await chat.send("Golden hour")
    await chat.send("Type my own")  # the button's label: asks for the words
    assert "How close?" not in chat.text() and "Type" in chat.text(), chat.text()
    await chat.send("a close crop of the face")
    await chat.send("Skip")
    assert "Which format?" in chat.text(), chat.text()
    await chat.send("Square 1:1 (avatars)")
    summary = chat.text()
    assert "Attire: a wool coat" in summary and "Setting: Library" in summary, summary
    assert "Composition: a close crop of the face" in summary, summary
    assert "skip" not in summary.lower().replace("skipped", ""), summary
    session = await fake_studio.store.session(1)
    assert session is not None
    assert session.data["setting"] == "an old wood-panelled library"
    assert session.data["lighting"] != "Golden hour"  # the preset's wording
    assert session.data.get("subject", "") == ""
    await chat.send("cancel")
    assert "Cancelled" in chat.text(), chat.text()


async def test_skip_typed_where_no_skip_button_is_never_the_answer(
    fake_studio: Studio,
) -> None:
    """Newcomer run: the README says typed `skip` presses Skip; at the attire, setting,
    lighting and composition steps (no Skip button) it became "Attire: skip" in the
    order and its prompt."""
    chat = Chat(fake_studio, WHO)
    await _ready(chat)
    await chat.press("Watercolor")
    await chat.send("skip")
    said = chat.text()
    assert "This step has no “skip” button" in said, said
    assert "What should you wear?" in said, said  # the same question again
    session = await fake_studio.store.session(1)
    assert session is not None and "attire" not in session.data, session.data
    await chat.send("a wool coat")
    assert "Where are you?" in chat.text(), chat.text()


async def test_i_agree_typed_at_consent_agrees(fake_studio: Studio) -> None:
    """Item 23: typing "I agree" at the consent step was refused ("press I agree")."""
    chat = Chat(fake_studio, WHO)
    await chat.send("/start")
    await chat.send("I agree")
    assert "Send me photos" in chat.text(), chat.text()


async def test_start_a_new_set_counts_the_photos_kept_and_a_set_aside_one_says_so(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Item 18: "This deletes all 39 photos" for 4 accepted and 2 set aside (the refused
    uploads were counted); "✗ a different person" did not say the photo is kept."""
    from test_studio_reference_set import picture

    chat = Chat(fake_studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    fake_engine.show(astronaut_set(), "astronaut")
    await chat.files(astronaut_set())
    friend = [picture("bob.png", 1), picture("bob-beach.png", 2)]
    fake_engine.show(friend, "bob")
    nobody = [picture(f"wall{i}.png", 10 + i) for i in range(3)]
    fake_engine.show(nobody, None)  # no face: refused, nothing kept
    [v] = await chat.files([*friend, *nobody])
    assert v.text.count("✗") == 5, v.text
    line = next(x for x in v.text.splitlines() if x.startswith("bob.png"))
    assert "set aside" in line and "/photos lists it" in line, line
    replies = await chat.send("/photos")
    [ask] = await chat.press("Start a new set", replies)
    assert "This deletes all 6 photos of your set (4 in use, 2 set aside)" in ask.text, ask.text
    [gone, *_] = await chat.press("Yes, delete them", [ask])
    assert "I deleted the 6 photos of your set" in gone.text, gone.text


async def test_an_unknown_command_lists_every_command_help_lists(fake_studio: Studio) -> None:
    """Item 23: `/foo` listed 8 of the 13 commands /help names."""
    import re

    chat = Chat(fake_studio, WHO)
    await _ready(chat)
    [help_] = await chat.send("/help")
    listed = set(re.findall(r"^(/[a-z]+) –", help_.text, re.M)) | {"/help"}
    # + /train, /personal (issue 23), /together (issue 24), /pet (issue 25), /language (26)
    assert len(listed) == 18, listed
    assert "/together" in listed and "/pet" in listed, listed  # the README's table names them
    [unknown] = await chat.send("/foo")
    assert "I don't know the command /foo" in unknown.text
    said = set(re.findall(r"/[a-z]+", unknown.text)) - {"/foo"}
    assert said == listed, said ^ listed


async def test_welcome_back_with_unchecked_photos_offers_done(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Item 23: photos kept while no worker ran, then /start: "Welcome back" had no Done."""
    chat = Chat(fake_studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    fake_engine.stop()
    await chat.files(astronaut_set())
    fake_engine.start()
    replies = await chat.send("/start")
    assert "Welcome back" in replies[0].text, replies[0].text
    assert "4 photos I kept while the engine was away still wait" in chat.text(), chat.text()
    await chat.press("Done (4 photos)", replies)  # the button is there
    assert chat.text().count("✓ accepted") == 4, chat.text()


async def test_photos_sent_between_orders_join_the_set(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Item 23: after an order, photos were refused ("I'm not collecting photos now")
    although /photos says to send more to add them."""
    from test_studio_reference_set import picture

    chat = Chat(fake_studio, WHO)
    await _ready(chat)
    await chat.send("/cancel")  # idle: nothing being chosen
    more = picture("garden.png", 7)
    fake_engine.show([more], "astronaut")
    [v] = await chat.files([more])
    assert "garden.png: ✓ accepted" in v.text and "not collecting" not in v.text, v.text
    assert chat.button("Done (5 photos)", [v])
    ref = await fake_studio.store.current_set(1)
    assert await fake_studio.store.count_photos(ref["id"]) == 5


async def test_a_burst_summary_names_every_reason_and_its_files(
    fake_studio: Studio, fake_engine: FakeEngine
) -> None:
    """Item 23: a burst of more than ten files was summed up with the top three reasons
    "and 13 other reasons": which photo was refused for what was hidden."""
    from test_studio_reference_set import picture

    from bot.studio.core.events import IncomingFile

    chat = Chat(fake_studio, WHO)
    await chat.send("/start")
    await chat.press("I agree")
    mine = astronaut_set()
    fake_engine.show(mine, "astronaut")
    blank = [picture(f"wall{i}.png", 20 + i) for i in range(2)]
    fake_engine.show(blank, None)
    pairs = [picture(f"pair{i}.png", 30 + i) for i in range(2)]
    fake_engine.show(pairs, "astronaut", faces=2)
    junk = [IncomingFile(f"junk{i}.jpg", f"not a photo {i}".encode(), 13) for i in range(2)]
    empty = [IncomingFile("empty.jpg", b"", 0)]
    again = [IncomingFile("copy.png", mine[0].data, len(mine[0].data or b""))]
    burst = [*mine, *blank, *pairs, *junk, *empty, *again]
    assert len(burst) > 10
    [v] = await chat.files(burst)
    lines = v.text.splitlines()
    assert lines[0].startswith(f"{len(burst)} files: I checked"), lines
    reasons = [x for x in lines if x.startswith("• ")]
    assert len(reasons) >= 4 and "other reasons" not in v.text, v.text
    named = " ".join(reasons)
    for f in [*blank, *pairs, *junk, *empty, *again]:
        assert f.filename in named, (f.filename, v.text)


async def test_messages_about_a_portrait_name_its_order(fake_studio: Studio) -> None:
    """Item 23: "Upscaling #2…" and "What shall I do with portrait #2?" did not say which
    order's #2 (every order has one)."""
    from studio_harness import until

    chat = Chat(fake_studio, WHO)
    await _ready(chat)
    for label in ("Watercolor", "Business suit", "Office", "Golden hour", "Headshot", "Skip"):
        await chat.press(label)
    await chat.press("Square 1:1 (avatars)")
    await chat.press("✓ Queue it")
    sent = fake_studio.outboxes["terminal"].sent  # type: ignore[attr-defined]
    await until(fake_studio, lambda: any(r.images for _, r in sent), 10, "portraits")
    results = next(r for _, r in sent if r.images)
    [up] = await chat.press("Upscale 2", [results])
    assert up.text.startswith("Order #1: Upscaling #2"), up.text
    [menu] = await chat.press("More 3…", [results])
    assert menu.text.startswith("Order #1: What shall I do with portrait #3?"), menu.text
    [lights] = await chat.press("Relight 3", [menu])
    assert lights.text.startswith("Order #1: Which light for portrait #3?"), lights.text
    await until(fake_studio, lambda: any("upscaled" in r.text for _, r in sent), 10, "copy")
    done = next(r for _, r in sent if "upscaled" in r.text)
    assert done.text.startswith("Order #1: Portrait #2 upscaled"), done.text
