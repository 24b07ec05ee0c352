"""The demo contest `make run` seeds: a Silk Way Star final with invented songs."""

from __future__ import annotations

from service.contests.models import ContestIn, EntryIn
from service.contests.repository import fetch_contest, insert_contest
from service.stores.postgres import Conn

DEMO_CONTEST_ID = "silk-way-star"

# (country, artist, song) in running order; every artist and song is invented.
DEMO_LINEUP: list[tuple[str, str, str]] = [
    ("AZ", "Nargiz & The Caspian", "Fire of the Eternal Flame"),
    ("AM", "Ani Sargsyan", "Apricot Skies"),
    ("GE", "Tbilisi Strings", "Supra Night"),
    ("IN", "Meera Raghavan", "Monsoon Heart"),
    ("KZ", "Dastan Orda", "Steppe Runner"),
    ("CN", "Lin Yue", "Silk Lantern"),
    ("KG", "Aizada", "Issyk-Kul Blue"),
    ("MN", "Khongor Band", "Nine Horses"),
    ("TJ", "Farrukh Saidov", "Pamir Echo"),
    ("TM", "Maya Annayeva", "Desert Rose of Merv"),
    ("UZ", "Samarkand Collective", "Turquoise Domes"),
    ("KR", "NOVA7", "Seoul Signal"),
]

DEMO_VOTING_COUNTRIES = [country for country, _, _ in DEMO_LINEUP] + ["WW"]


def demo_definition() -> ContestIn:
    return ContestIn(
        id=DEMO_CONTEST_ID,
        name="Silk Way Star — Grand Final (demo)",
        entries=[
            EntryIn(country=c, running_order=i, artist=a, song=s)
            for i, (c, a, s) in enumerate(DEMO_LINEUP, start=1)
        ],
        voting_countries=DEMO_VOTING_COUNTRIES,
        vote_cap=20,
        jury_size=5,
        jury_min_valid=3,
    )


async def seed_demo(conn: Conn) -> tuple[str, bool]:
    """Create the demo contest unless it exists; returns (id, created_now)."""
    if await fetch_contest(conn, DEMO_CONTEST_ID) is not None:
        return DEMO_CONTEST_ID, False
    await insert_contest(conn, demo_definition(), vote_cap=20)
    return DEMO_CONTEST_ID, True
