#!/usr/bin/env python3
"""Checks the hub's dashboard over HTTP(S), standard library only.

    dashboard-check.py http BASE TOKEN_SECRET MONTH     every page and download, as a client
    dashboard-check.py dom PAGE FILE MONTH              a page's DOM as chromium rendered it

MONTH (YYYY-MM) is the month the test data's figures and brief are of.

`http`: without a session every page answers with the sign-in page's address and every
download with 401; a wrong token is refused; signed in (the cookie HttpOnly, SameSite=Strict,
Secure over https) every page and download answers 200 with its content, and the count of 7
the test data holds is in no page or download as a number, while "<11" is.

`dom`: the checks on what a person sees (FILE is `chromium --dump-dom` output):
positions — Ministry of Manpower's stance on the shelter ask reads "Active support";
follow-ups — the overdue action is listed first; figures — "<11" shown, 7 nowhere.
Prints "ok: …" or the failure, and exits 1 on a failure.
"""
import datetime
import html.parser
import http.cookiejar
import re
import ssl
import time
import threading
import sys
import urllib.error
import urllib.parse
import urllib.request

SUPPRESSED = "7"


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


class Tree(html.parser.HTMLParser):
    """Elements with their attributes and text, enough for the checks."""

    def __init__(self):
        super().__init__()
        self.stack = []
        self.elements = []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": "", "parents": list(self.stack)}
        self.elements.append(element)
        if tag not in ("meta", "input", "br", "link", "img", "rect", "line"):
            self.stack.append(element)

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self.stack:
            element["text"] += data

    def texts(self):
        """Every text node's words, for the number check."""
        return " ".join(e["text"] for e in self.elements if not e["parents"])


def parse(text):
    tree = Tree()
    tree.feed(text)
    return tree


def numbers_in(text):
    """Every standalone number of the visible text (dates and times taken out first)."""
    text = re.sub(r"\d{4}-\d{2}-\d{2}( \d{2}:\d{2} UTC)?|\d{4}-(Q\d|\d{2})", " ", text)
    return re.findall(r"(?<![\w.<–-])\d+(?![\w.])", text)


def visible_text(markup):
    """The text a reader sees: no tags, no style."""
    markup = re.sub(r"<style>.*?</style>", " ", markup, flags=re.S)
    return re.sub(r"<[^>]+>", " ", markup)


def month_name(month):
    return datetime.date(int(month[:4]), int(month[5:]), 1).strftime("%B %Y")


def check_http(base, token, month):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    plain = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), NoRedirect())
    signed = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), urllib.request.HTTPCookieProcessor(jar), NoRedirect())

    def get(opener, path, data=None):
        try:
            response = opener.open(base + path, data=data)
            return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    pages = ["/positions", "/figures?indicator=VictimsIdentified&by=area&period=month", "/follow-ups", "/replicas", f"/brief?month={month}"]
    downloads = ["/positions.csv", "/figures.csv?indicator=VictimsIdentified&by=area&period=month", "/follow-ups.csv", "/replicas.csv",
                 f"/brief.md?month={month}"]
    for path in pages:
        status, headers, _ = get(plain, path)
        if status != 303 or "/signin?next=" not in headers.get("Location", ""):
            fail(f"{path} without a session answered {status} {headers.get('Location')}, not the sign-in page")
    for path in downloads:
        status, _, _ = get(plain, path)
        if status != 401:
            fail(f"{path} without a session answered {status}, not 401")
    status, _, body = get(plain, "/signin", urllib.parse.urlencode({"token": "mft_wrong", "next": "/positions"}).encode())
    if status != 401 or "not known to this hub" not in body:
        fail(f"a wrong token answered {status}")
    # Wrong sign-ins sent at once from one address are checked one a second, not all at once.
    started = time.monotonic()
    finished = []
    def wrong():
        get(plain, "/signin", urllib.parse.urlencode({"token": "mft_wrong_too", "next": "/positions"}).encode())
        finished.append(time.monotonic() - started)
    threads = [threading.Thread(target=wrong) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(finished) != 3 or max(finished) < 2.5:
        fail(f"three wrong sign-ins at once all answered within {max(finished or [0]):.1f} s: the penalty must hold per address")
    status, headers, _ = get(signed, "/signin", urllib.parse.urlencode({"token": token, "next": "https://elsewhere.example/x"}).encode())
    cookie = headers.get("Set-Cookie", "")
    if status != 303 or headers.get("Location") != "/positions":
        fail(f"sign-in answered {status} to {headers.get('Location')} (an outside 'next' must not be followed)")
    status, headers, _ = get(plain, "/signin", urllib.parse.urlencode({"token": token, "next": "/\t/elsewhere.example/x"}).encode())
    if headers.get("Location") != "/positions":
        fail(f"a 'next' with a tab led to {headers.get('Location')} (a browser drops the tab: //elsewhere.example)")
    try:
        plain.open(urllib.request.Request(base + "/signin", data=urllib.parse.urlencode({"token": token}).encode(),
                                          headers={"Origin": "https://elsewhere.example"}))
        fail("a sign-in posted from another site was accepted (login CSRF)")
    except urllib.error.HTTPError as error:
        if error.code != 403:
            fail(f"a sign-in posted from another site answered {error.code}, not 403")
    for attribute in ["HttpOnly", "SameSite=Strict"] + (["Secure"] if base.startswith("https") else []):
        if attribute not in cookie:
            fail(f"the session cookie lacks {attribute}: {cookie}")
    expectations = {
        "/positions": ["Active support", "Ministry of Manpower", "Raise the shelter budget", "in conflict:"],
        "/figures?indicator=VictimsIdentified&by=area&period=month": ["&lt;11", "figures-chart", "East Java"],
        "/follow-ups": ["(overdue)", "Send the letter to the minister", "Monthly coordination"],
        "/replicas": ["Waiting for a person", "Lia"],
        f"/brief?month={month}": [f"Coordination brief, {month_name(month)}", "&lt;11", "Send the letter to the minister"],
    }
    for path, needles in expectations.items():
        status, headers, body = get(signed, path)
        if status != 200:
            fail(f"{path} answered {status}")
        if "script" in headers.get("Content-Security-Policy", "") or "<script" in body:
            fail(f"{path} carries or allows scripts")
        for needle in needles:
            if needle not in body:
                fail(f"{path} lacks {needle!r}")
        # Counts are on the figures page and in the brief; elsewhere numbers are not counts.
        if path.startswith(("/figures", "/brief")):
            if SUPPRESSED in numbers_in(visible_text(body)):
                fail(f"{path} shows the suppressed count {SUPPRESSED}")
            found = re.search(r'="7"|>7<|\b7\b(?=[^<]*</(td|text|th))', body)
            if found:
                fail(f"{path} holds the suppressed count {SUPPRESSED} in its markup: …{body[max(0, found.start() - 80):found.end() + 20]}…")
    for path in downloads:
        status, headers, body = get(signed, path)
        if status != 200 or "attachment" not in headers.get("Content-Disposition", ""):
            fail(f"{path} answered {status} {headers.get('Content-Disposition')}")
        if path.startswith(("/figures", "/brief")) and SUPPRESSED in numbers_in(body):
            fail(f"{path} holds the suppressed count {SUPPRESSED}")
    status, _, body = get(signed, "/figures.csv?indicator=VictimsIdentified&by=area&period=month")
    if "<11" not in body:
        fail("the figures download does not show <11")
    status, _, body = get(signed, "/figures?indicator=Nonsense")
    if status != 200 or "is not one of" not in body:
        fail(f"a bad filter answered {status} without saying what is accepted")
    status, _, _ = get(signed, "/signout", b"")
    status, headers, _ = get(signed, "/positions")
    if status != 303:
        fail(f"after signing out /positions answered {status}")
    print(f"ok: {len(pages)} pages and {len(downloads)} downloads refused without a session, served with one, no suppressed count in any; cookie {cookie.split(';')[0].split('=')[0]} HttpOnly SameSite=Strict")


def check_dom(page, path, month):
    with open(path, encoding="utf-8") as handle:
        markup = handle.read()
    tree = parse(markup)
    if page == "positions":
        cells = [e for e in tree.elements if e["tag"] == "td" and e["attrs"].get("data-position") == "kemnaker:ask-budget"]
        if not cells or "Active support" not in cells[0]["text"] or "stance-active-support" not in cells[0]["attrs"].get("class", ""):
            fail(f"the ministry's cell on the shelter ask does not read Active support: {cells[:1]}")
        conflicted = [e for e in tree.elements if e["tag"] == "td" and "conflicted" in e["attrs"].get("class", "")]
        if not conflicted or "in conflict" not in conflicted[0]["text"]:
            fail("no conflicted cell shows its candidates")
        print("ok: positions: the ministry's stance on the shelter ask reads Active support; a conflicted cell lists its candidates")
    elif page == "follow-ups":
        rows = [e for e in tree.elements if e["tag"] == "tr" and "data-action" in e["attrs"]]
        if not rows or "overdue" not in rows[0]["attrs"].get("class", "") or "Send the letter to the minister" not in rows[0]["text"]:
            fail(f"the first action is not the overdue one: {rows[0]['text'] if rows else 'none'}")
        print(f"ok: follow-ups: the overdue action is first of {len(rows)}")
    elif page == "figures":
        table = [e for e in tree.elements if e["attrs"].get("id") in ("figures", "figures-chart")]
        text = " ".join(e["text"] for e in table)
        if "<11" not in text:
            fail("the figures page shows no <11")
        if SUPPRESSED in numbers_in(text) or SUPPRESSED in numbers_in(visible_text(markup)):
            fail(f"the figures page shows the suppressed count {SUPPRESSED}")
        print("ok: figures: the count of 7 shows as <11 and nowhere as a number")
    elif page == "brief":
        if f"Coordination brief, {month_name(month)}" not in markup or "&lt;11" not in markup:
            fail("the brief page lacks its title or <11")
        print("ok: brief: rendered with <11")
    else:
        fail(f"unknown page {page}")


if __name__ == "__main__":
    if sys.argv[1] == "http":
        check_http(sys.argv[2].rstrip("/"), sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "dom":
        check_dom(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        fail(f"unknown command {sys.argv[1]}")
