"""The back-off of a live stream opened again (a whole area turned away at once by Icecast must
not come back at once): 0.5 s doubling to 8 s, each randomised ±50 %."""

import random

from grassroots_agent.player import live_reopen_delay


def test_the_reopen_delay_grows_is_capped_and_spreads_an_area():
    random.seed(20)
    for attempt, base in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        waits = [live_reopen_delay(attempt) for _ in range(200)]
        assert all(base * 0.5 <= w <= base * 1.5 for w in waits)
        # 200 devices refused together come back spread over most of the window
        assert max(waits) - min(waits) > base * 0.8
