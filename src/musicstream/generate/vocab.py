"""Word lists and weights the generator draws from: genres, countries, names, hours, weekdays.

Kept as plain data so the SQL stays about arithmetic; every list is embedded into the DuckDB
session as a variable (see ``sqlkit.set_lists``).
"""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    """Whitespace-separated words of a block of text."""
    return tuple(text.split())


# The 114 genres of the public Spotify Tracks dataset, in its (alphabetical) file order.
SPOTIFY_GENRES: tuple[str, ...] = _words(
    """
    acoustic afrobeat alt-rock alternative ambient anime black-metal bluegrass blues brazil
    breakbeat british cantopop chicago-house children chill classical club comedy country
    dance dancehall death-metal deep-house detroit-techno disco disney drum-and-bass dub
    dubstep edm electro electronic emo folk forro french funk garage german gospel goth
    grindcore groove grunge guitar happy hard-rock hardcore hardstyle heavy-metal hip-hop
    honky-tonk house idm indian indie-pop indie industrial iranian j-dance j-idol j-pop j-rock
    jazz k-pop kids latin latino malay mandopop metal metalcore minimal-techno mpb new-age
    opera pagode party piano pop-film pop power-pop progressive-house psych-rock punk-rock
    punk r-n-b reggae reggaeton rock-n-roll rock rockabilly romance sad salsa samba sertanejo
    show-tunes singer-songwriter ska sleep songwriter soul spanish study swedish synth-pop
    tango techno trance trip-hop turkish world-music
    """
)

# Countries with a skewed weight (percent-ish): a few big markets and a long tail.
COUNTRY_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("United States", 22),
    ("Brazil", 10),
    ("United Kingdom", 8),
    ("Germany", 7),
    ("Mexico", 6),
    ("India", 5),
    ("France", 4),
    ("Canada", 4),
    ("Spain", 3.5),
    ("Italy", 3),
    ("Japan", 3),
    ("Australia", 2.5),
    ("Netherlands", 2),
    ("Sweden", 2),
    ("Poland", 2),
    ("Argentina", 2),
    ("Colombia", 1.5),
    ("Turkey", 1.5),
    ("Indonesia", 1.5),
    ("Philippines", 1.5),
    ("Nigeria", 1),
    ("South Africa", 1),
    ("Chile", 1),
    ("Ghana", 0.8),
    ("Kenya", 0.6),
    ("Norway", 0.5),
    ("Denmark", 0.5),
    ("Finland", 0.4),
    ("Ireland", 0.4),
    ("Portugal", 0.4),
    ("New Zealand", 0.3),
    ("Egypt", 0.3),
    ("Vietnam", 0.3),
    ("Peru", 0.3),
    ("Morocco", 0.2),
    ("Iceland", 0.1),
)

FIRST_NAMES: tuple[str, ...] = _words(
    """
    James Mary John Patricia Robert Jennifer Michael Linda David Elizabeth William Barbara
    Richard Susan Joseph Jessica Thomas Sarah Carlos Maria Ahmed Fatima Kwame Ama Yuki Hana
    Wei Mei Arjun Priya Lucas Sofia Mateo Valentina Noah Emma Liam Olivia Elias Amara Omar
    Leila Ivan Olga Pierre Camille Hans Greta Luca Giulia Diego Lucia Kofi Efua Sven Astrid
    Rahul Ananya Jin Seo
    """
)

LAST_NAMES: tuple[str, ...] = _words(
    """
    Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
    Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White
    Silva Santos Oliveira Mensah Boateng Okafor Adeyemi Tanaka Sato Kim Park Chen Wang Singh
    Patel Kumar Muller Schmidt Rossi Bianchi Dubois Moreau Novak Kowalski Ivanova Petrov
    Andersson Johansson Nielsen Costa Fernandes Mendes Haddad Nasser Okoro Ito
    """
)

# Words for artist, track and album names.
WORDS: tuple[str, ...] = _words(
    """
    Midnight Echo Summer Heart Fire Dream River Golden Neon Velvet Silver Paper Electric
    Ocean Wild Broken Crystal Shadow Sunset Stardust Thunder Honey Lonely Dancing Falling
    Secret Paradise Moonlight Rain Highway Ghost Fever Sugar Diamond Wolves Island Mirror
    静か Corazón Saudade Lights Waves Horizon Magic Forever Blue Red Young Free Running
    Burning Frozen Sweet Bitter Happy Little Crazy Lost Found Home Gravity Satellite Rebel
    Kingdom Garden Window Thunderbird Tokyo Lagos Rio Berlin Havana Seoul
    """
)

ARTIST_TAILS: tuple[str, ...] = (
    "",
    " Jr.",
    " & The Band",
    " Trio",
    " Collective",
    " Project",
    " Quartet",
    " Orchestra",
    " III",
    " & Friends",
    " Sound System",
    " Ensemble",
)

# Relative weight of a listening session starting in UTC hour 0..23 on a weekday: a night
# trough, a morning commute bump, a lunch plateau and the evening peak.
HOUR_WEIGHTS: tuple[float, ...] = (
    1.6, 1.0, 0.6, 0.4, 0.3, 0.4, 1.0, 2.6, 3.4, 2.8, 2.6, 2.8,
    3.4, 3.2, 2.9, 3.0, 3.4, 4.2, 5.4, 6.6, 7.4, 7.0, 5.2, 3.0,
)  # fmt: skip

# The same on Saturdays and Sundays: a late start, a busy afternoon, a later night.
WEEKEND_HOUR_WEIGHTS: tuple[float, ...] = (
    3.0, 2.4, 1.6, 1.0, 0.6, 0.4, 0.4, 0.6, 1.2, 2.2, 3.2, 4.0,
    4.6, 4.8, 4.8, 4.8, 5.0, 5.4, 6.0, 6.6, 7.0, 7.2, 6.4, 4.6,
)  # fmt: skip

# Relative number of sessions per day of the week, Monday first: busier Friday to Sunday.
WEEKDAY_WEIGHTS: tuple[float, ...] = (0.95, 0.95, 0.97, 1.0, 1.08, 1.15, 1.05)

# UTC offsets (minutes) used for listen_time values written with an explicit offset.
OFFSETS_MIN: tuple[int, ...] = (120, 60, -300, 330, 540, -180, 180, -480, 60, 120)


def genre_names(count: int) -> list[str]:
    """The first ``count`` Spotify genres; beyond 114, numbered extra genres."""
    names = list(SPOTIFY_GENRES[:count])
    names += [f"genre-{k + 1}" for k in range(len(SPOTIFY_GENRES), count)]
    return names


def weighted_slots(weights: tuple[float, ...] | list[float], slots: int = 1000) -> list[int]:
    """Indices 0..len(weights)-1 repeated in proportion to their weight, ``slots`` long.

    Picking a uniform slot then gives a weighted draw with one list lookup in SQL.
    """
    total = float(sum(weights))
    out: list[int] = []
    acc = 0.0
    for idx, weight in enumerate(weights):
        acc += weight
        out.extend([idx] * (round(acc / total * slots) - len(out)))
    return out
