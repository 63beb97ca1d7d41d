"""What a participant does next, as intents (pure; the caller turns them into operations).

Makers keep a few offers each on both sides around the mid price: they place new ones, move one
to the current mid (an update), or cancel one, preferring the offer furthest from the mid so a
cancel rarely races a taker for the same offer. Takers hold no offers (so they never cross their
own) and take small amounts from the best level with a path payment to themselves.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

BID, ASK = "bid", "ask"


@dataclass(frozen=True, slots=True)
class RestingOffer:
    offer_id: int
    side: str  # BID (buys base) or ASK (sells base)
    price: float  # counter per base


@dataclass(frozen=True, slots=True)
class Place:
    side: str
    price: float
    amount: float  # base units


@dataclass(frozen=True, slots=True)
class Update:
    offer_id: int
    side: str
    price: float
    amount: float


@dataclass(frozen=True, slots=True)
class Cancel:
    offer_id: int
    side: str


@dataclass(frozen=True, slots=True)
class Take:
    side: str  # BID: the taker buys base (sends counter); ASK: sells base (sends base)
    amount: float  # units of the asset sent


Intent = Place | Update | Cancel | Take


class MakerPlanner:
    def __init__(self, rng: random.Random, spread: float = 0.002, depth: float = 0.01,
                 size: tuple[float, float] = (20.0, 200.0), min_offers: int = 2, max_offers: int = 6) -> None:
        if not 0 < min_offers <= max_offers:
            raise ValueError(f"need 0 < min_offers <= max_offers, got {min_offers}, {max_offers}")
        self.rng = rng
        self.spread = spread  # fraction of mid between the best bid and ask a maker quotes at least
        self.depth = depth  # scale of how far from the mid offers rest (fraction of mid)
        self.size = size
        self.min_offers = min_offers
        self.max_offers = max_offers

    def quote(self, side: str, mid: float) -> float:
        distance = self.spread / 2 + abs(self.rng.gauss(0.0, self.depth))
        return mid * (1 - distance) if side == BID else mid * (1 + distance)

    def amount(self) -> float:
        return round(self.rng.uniform(*self.size), 2)

    def plan(self, offers: list[RestingOffer], mid: float, count: int) -> list[Intent]:
        """`count` intents for one transaction; each existing offer is touched at most once."""
        untouched = sorted(offers, key=lambda o: abs(o.price - mid))  # furthest from the mid last
        resting = len(offers)
        intents: list[Intent] = []
        for _ in range(count):
            roll = self.rng.random()
            if untouched and (resting > self.max_offers or (resting >= self.min_offers and roll < 0.3)):
                offer = untouched.pop()
                intents.append(Cancel(offer.offer_id, offer.side))
                resting -= 1
            elif untouched and resting >= self.min_offers and roll < 0.6:
                offer = untouched.pop()
                intents.append(Update(offer.offer_id, offer.side, self.quote(offer.side, mid), self.amount()))
            else:
                side = BID if self.rng.random() < 0.5 else ASK
                intents.append(Place(side, self.quote(side, mid), self.amount()))
                resting += 1
        return intents


def plan_takes(rng: random.Random, count: int, mid: float, can_buy: bool, can_sell: bool,
               size: tuple[float, float] = (1.0, 5.0)) -> list[Take]:
    """Up to `count` takes of `size` base units (sent as counter when buying); none on an empty side."""
    sides = [side for side, ok in ((BID, can_buy), (ASK, can_sell)) if ok]
    takes = []
    for _ in range(count if sides else 0):
        side = rng.choice(sides)
        base_units = rng.uniform(*size)
        takes.append(Take(side, round(base_units * mid if side == BID else base_units, 4)))
    return takes
