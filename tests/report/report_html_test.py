#!/usr/bin/env python3
"""Loads report.html in headless Chromium (Selenium + chromedriver) and checks what an
engineer relies on: no console errors, one ranking row per variant, the SVG plots, and an
A/B player that switches the playing source. Saves a screenshot as a test artifact.

usage: report_html_test.py OUT_DIR SCREENSHOT.png
"""
import json
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

out_dir, screenshot = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
report = json.loads((out_dir / "report.json").read_text())
variants = report["variants"]
written = [v for v in variants if v["file"]]

options = webdriver.ChromeOptions()
for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--autoplay-policy=no-user-gesture-required", "--window-size=1400,2000"]:
    options.add_argument(arg)
options.binary_location = "/usr/bin/chromium"
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def wait_for(script, seconds=30):
    end = time.time() + seconds
    while time.time() < end:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.2)
    return None


try:
    driver.get((out_dir / "report.html").as_uri())
    rows = driver.find_elements(By.CSS_SELECTOR, "#ranking tbody tr")
    check(len(rows) == len(variants),
          f"the ranking table has one row per variant ({len(rows)} rows, {len(variants)} variants)")
    first = [r.get_attribute("data-id") for r in rows]
    check(first and first[0] == variants[0]["id"], "the table opens sorted by rank")
    # Sorting: a click on the score header sorts descending after the first (ascending) click.
    score_header = [h for h in driver.find_elements(By.CSS_SELECTOR, "#ranking th")
                    if h.text.startswith("score")][0]
    score_header.click()
    score_header = [h for h in driver.find_elements(By.CSS_SELECTOR, "#ranking th")
                    if h.text.startswith("score")][0]
    score_header.click()
    ids = [r.get_attribute("data-id") for r in
           driver.find_elements(By.CSS_SELECTOR, "#ranking tbody tr")]
    score = {v["id"]: v["score"] for v in variants}
    shown = [score[i] for i in ids]
    check(shown == sorted(shown, reverse=True) and shown[0] > shown[-1],
          f"clicking the score column twice sorts the table, highest first ({shown})")
    for plot in ["spectrum", "difference", "loudness", "reduction", "buses", "width"]:
        paths = driver.find_elements(By.CSS_SELECTOR, f"#plot-{plot} svg path, #plot-{plot} svg rect")
        check(len(paths) > 0, f"the {plot} plot is an inline SVG with content ({len(paths)} marks)")
    # Selecting another variant redraws the plots for it.
    driver.find_elements(By.CSS_SELECTOR, "#ranking tbody tr")[1].click()
    check(driver.find_element(By.ID, "selected").text.startswith(ids[1]),
          "clicking a row selects that variant")
    # The players: one per written variant and reference.
    sources = driver.find_elements(By.CSS_SELECTOR, "#sources button")
    check(len(sources) == len(written) + len(report["variants"][0]["references"]),
          f"one player source per written variant and reference ({len(sources)})")
    driver.find_element(By.ID, "play").click()
    ready = wait_for("return window.topdownPlayer.ready && window.topdownPlayer.started")
    check(bool(ready), "the excerpts decode and play")
    state = driver.execute_script("return window.topdownPlayer.ctx.state")
    check(state == "running", f"the audio context runs ({state})")
    t0 = driver.execute_script("return window.topdownPlayer.ctx.currentTime")
    time.sleep(0.5)
    t1 = driver.execute_script("return window.topdownPlayer.ctx.currentTime")
    check(t1 > t0, f"audio time advances ({t0:.3f} -> {t1:.3f} s)")
    before = driver.find_element(By.ID, "player").get_attribute("data-playing")
    sources[-1].click()  # the reference
    time.sleep(0.3)
    after = driver.find_element(By.ID, "player").get_attribute("data-playing")
    check(before != after and after == sources[-1].get_attribute("data-source"),
          f"switching the A/B player changes the playing source ({before} -> {after})")
    gains = driver.execute_script(
        "const p = window.topdownPlayer; const g = {};"
        "for (const s of p.sources) g[s.id] = p.gains[s.id].gain.value; return g;")
    audible = [k for k, v in gains.items() if v > 1e-3]
    check(audible == [after], f"only the selected source is audible ({gains})")
    match = driver.execute_script("return window.topdownPlayer.match_db")
    check(all(v <= 1e-9 for v in match.values()) and min(abs(v) for v in match.values()) < 1e-9,
          f"sources are gained down to the quietest one's loudness ({match})")
    driver.find_element(By.CSS_SELECTOR, "#systems button[data-system='phone']").click()
    time.sleep(0.3)
    check(driver.find_element(By.ID, "player").get_attribute("data-system") == "phone",
          "the phone playback system can be switched on")
    check("phone" in driver.find_element(By.ID, "difference-system").text,
          "the difference plot follows the playback system")
    driver.save_screenshot(str(screenshot))
    check(screenshot.exists(), f"screenshot saved: {screenshot}")
    logs = driver.get_log("browser")
    errors = [e for e in logs if e["level"] == "SEVERE"]
    check(not errors, f"no console errors ({errors})")
finally:
    driver.quit()

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("report.html: all checks passed")
