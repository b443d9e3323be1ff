"""Checks the project's production calendar (domain/calendar-data/ru.json) against the PyPI `holidays` package.

For every year the data covers, the days off by our data (holidays, transfer targets, weekends not made working)
must equal the package's (its RU holidays plus weekends, minus its weekend working days). A day where they
disagree fails the check unless the year's `differsFromHolidaysPackage` names that date with a `why`.
Run: python3 tests/calendar/check_holidays.py  (exit 0: agree; 1: a disagreement; 2: the package is too old).
"""
import datetime as dt
import json
import pathlib
import sys

import holidays

MIN_VERSION = (0, 108)
DATA = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2] / "domain" / "calendar-data" / "ru.json"


def days_of(year):
    day = dt.date(year, 1, 1)
    while day.year == year:
        yield day
        day += dt.timedelta(days=1)


def ours_off(year_data, year):
    off = set(year_data["holidays"]) | {t["to"] for t in year_data["transfers"]}
    working_weekends = set(year_data["workingWeekends"])
    for day in days_of(year):
        if day.weekday() >= 5 and day.isoformat() not in working_weekends:
            off.add(day.isoformat())
    return off


def package_off(year):
    calendar = holidays.country_holidays("RU", years=year)
    weekend_workdays = {d.isoformat() for d in calendar.weekend_workdays}
    off = {d.isoformat() for d in calendar}
    for day in days_of(year):
        if day.weekday() >= 5 and day.isoformat() not in weekend_workdays:
            off.add(day.isoformat())
    return off - weekend_workdays


def main():
    version = tuple(int(p) for p in holidays.__version__.split(".")[:2])
    if version < MIN_VERSION:
        print(f"holidays {holidays.__version__} is older than 0.108 (no 2026 decree, no 2027 transfers)")
        return 2
    data = json.loads(DATA.read_text(encoding="utf-8"))
    failures = 0
    for year_text, year_data in sorted(data["years"].items()):
        year = int(year_text)
        explained = {d["date"]: d["why"] for d in year_data["differsFromHolidaysPackage"] if d.get("why")}
        ours, theirs = ours_off(year_data, year), package_off(year)
        disagreements = sorted(ours ^ theirs)
        unexplained = [d for d in disagreements if d not in explained]
        for day in disagreements:
            side = "off in our data only" if day in ours else "off in holidays only"
            note = f"explained: {explained[day]}" if day in explained else "NOT EXPLAINED"
            print(f"{day}: {side} ({note})")
        working = sum(1 for d in days_of(year) if d.isoformat() not in ours)
        print(f"{year}: decree No. {year_data['decree']['number']}, {len(ours)} days off, {working} working days; "
              f"{len(disagreements)} disagreements with holidays {holidays.__version__}, {len(unexplained)} unexplained")
        failures += len(unexplained)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
