#!/usr/bin/env python3
"""Deterministic generator of a realistic, messy companies CSV for import benchmarks.

usage: gen_companies.py ROWS OUT.csv [--seed N]
The standard company fields (SPEC §8) and two custom fields the benchmark declares unique:
`Tax ID` (text) and `Account Number` (number). About 150 bytes a row: 200,000 rows stay
under the 30 MB import limit. A quarter of the Country cells say `USA`; phones come in nine
formats (some without an area code), some emails are invalid or blank, a few company names
are blank (the row fails: the primary field). About 5% of rows repeat an earlier company: its
Tax ID in another case (the dedupe field) and its Account Number written with thousands
separators half the time, the other cells as a later export of it might hold them.
"""
import csv, random, sys

def main():
    rows = int(sys.argv[1]); out = sys.argv[2]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 11
    rnd = random.Random(seed)
    heads = ["Glow", "Radiance", "Pure", "Lumière", "Skin Lab", "Belle", "Aura", "Velvet", "Nova", "Halo", "O'Keefe", "Juvé"]
    tails = ["Med Spa", "Clinic", "Aesthetics", "Derm", "Beauty & Co", "Wellness, Inc.", "Laser"]
    streets = ["Main St", "Ocean Ave", "Elm Street", "5th Ave", "Sunset Blvd", "Oak Rd"]
    places = [("Miami", "FL", "331"), ("Austin", "TX", "787"), ("New York", "NY", "100"), ("Boston", "MA", "021"),
              ("Los Angeles", "California", "900"), ("Chicago", "IL", "606"), ("Seattle", "wa", "981"), ("Dallas", "Texas", "752")]
    area = [201, 212, 305, 310, 312, 415, 469, 512, 617, 646, 702, 713, 786, 818, 917, 949]
    descs = ["", "", "", "", "Botox & filler", "Asked about \"group rates\"", "Line one\nline two", "Partner since 2019"]
    def phone_fmt(a, x, y):
        k = rnd.randrange(9)
        return [f"+1{a}{x}{y}", f"({a}) {x}-{y}", f"{a}.{x}.{y}", f"1-{a}-{x}-{y}", f"{a}{x}{y}",
                f"+1 {a} {x} {y}", f"001{a}{x}{y}", f"{a}-{x}-{y} x12", f"{a}{x}"][k]
    seen = []
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Company Name", "Email", "Phone", "Website", "Address", "City", "State", "Postal Code",
                    "Country", "Description", "Tax ID", "Account Number"])
        for i in range(rows):
            if seen and rnd.random() < 0.05:
                name, email, a, x, y, site, tax, acct = rnd.choice(seen)
                tax = tax.lower() if tax.isupper() else tax.upper()
                acct = f"{acct:,}" if rnd.random() < 0.5 else str(acct)
                email = email.upper() if rnd.random() < 0.5 else email
            else:
                name = f"{rnd.choice(heads)} {rnd.choice(tails)} {i}" if rnd.random() > 0.005 else ""
                slug = "".join(c for c in name.lower() if c.isascii() and c.isalnum())
                a = rnd.choice(area); x = rnd.randrange(200, 999); y = f"{rnd.randrange(0, 10000):04d}"
                email = f"info@{slug}.com"
                if rnd.random() < 0.3: email = email.capitalize()
                if rnd.random() < 0.03: email = email.replace("@", " at ")
                if rnd.random() < 0.05: email = ""
                site = rnd.choice([f"{slug}.com", f"www.{slug}.com", f"https://{slug}.com", "", ""])
                tax = f"TX-{i:07d}" if rnd.random() < 0.7 else f"tx-{i:07d}"
                acct = 100_000_000 + i * 37
                if len(seen) < 50000: seen.append((name, email, a, x, y, site, tax, acct))
                acct = str(acct)
            ph = phone_fmt(a, x, y) if rnd.random() > 0.05 else ""
            city, state, zip3 = rnd.choice(places)
            postal = f"{zip3}{rnd.randrange(100):02d}" + (f"-{rnd.randrange(10000):04d}" if rnd.random() < 0.1 else "")
            street = f"{rnd.randrange(1, 9999)} {rnd.choice(streets)}"
            country = rnd.choice(["United States", "US", "", "USA"])
            w.writerow([name, email, ph, site, street, city, state, postal, country, rnd.choice(descs), tax, acct])

if __name__ == "__main__":
    main()
