#!/usr/bin/env python3
"""Loads report.html in headless Chromium (Selenium + chromedriver) and checks what an
engineer relies on: no console errors, the header (tool, date, delivery), one ranking row
per variant, the SVG plots with swatch legends and a hover read-out on each, and an A/B
player that switches the playing source (buttons and number keys), with a transport whose
seek moves the position, whose loop region holds it and whose space key stops and starts.
With --no-reference: the page of a render without references shows the mix's own
analysis (no score, no difference plot, the mix's own width). Saves a screenshot.

usage: report_html_test.py OUT_DIR SCREENSHOT.png [--no-reference]
"""
import json
import sys
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

out_dir, screenshot = Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve()
no_reference = "--no-reference" in sys.argv[3:]
report = json.loads((out_dir / "report.json").read_text())
variants = report.get("variants", [report.get("master")])  # one variant: "master"
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


def header_and_plots():
    header = driver.find_element(By.ID, "header").text
    check(f"topdown {report['tool']['version']}" in header and "rendered 20" in header
          and "LUFS" in header and "ceiling" in header and "dBTP" in header,
          f"the header names the tool, the date and the delivery ({header})")
    for plot in ["spectrum", "loudness", "reduction", "buses", "width"] + ([] if no_reference else ["difference"]):
        box = driver.find_element(By.ID, f"plot-{plot}")
        swatches = box.find_elements(By.CSS_SELECTOR, "svg .swatch")
        check(len(swatches) > 0, f"the {plot} plot's legend has colour swatches ({len(swatches)})")
        svg = box.find_element(By.CSS_SELECTOR, "svg")
        ActionChains(driver).move_to_element_with_offset(svg, 40, 0).perform()
        text = box.get_attribute("data-readout")
        check(bool(text) and any(c.isdigit() for c in text),
              f"hovering the {plot} plot shows a read-out ({text!r})")


def page_without_reference():
    header_and_plots()
    heads = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#ranking th")]
    check(not any(h.startswith("score") for h in heads), f"no score column without references ({heads})")
    shown = driver.find_element(By.ID, "figure-difference").is_displayed()
    check(not shown, "no difference plot without references")
    marks = driver.find_elements(By.CSS_SELECTOR, "#plot-width svg path")
    check(len(marks) > 0 and "own" in driver.find_element(By.ID, "width-note").text,
          "the width plot shows the mix's own width per band")
    driver.save_screenshot(str(screenshot))
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    check(not errors, f"no console errors ({errors})")


try:
    driver.get((out_dir / "report.html").as_uri())
    if no_reference:
        page_without_reference()
        raise SystemExit(0 if not failures else 1)
    header_and_plots()
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
    # The transport: seek to the middle, the position follows; keys switch and stop.
    length = driver.execute_script("return window.topdownPlayer.length")
    driver.execute_script("const s = document.getElementById('seek'); s.value = 500;"
                          "s.dispatchEvent(new Event('input'));")
    time.sleep(0.3)
    pos = driver.execute_script("return window.topdownPlayer.position()")
    check(abs(pos - length / 2) < 0.6, f"seeking to the middle moves the position there ({pos:.2f} of {length:.2f} s)")
    ActionChains(driver).send_keys("1").perform()
    time.sleep(0.2)
    check(driver.find_element(By.ID, "player").get_attribute("data-playing") == sources[0].get_attribute("data-source"),
          "key 1 switches to the first source")
    ActionChains(driver).send_keys("2").perform()
    time.sleep(0.2)
    check(driver.find_element(By.ID, "player").get_attribute("data-playing") == sources[1].get_attribute("data-source"),
          "key 2 switches to the second source")
    driver.execute_script("for (const [id, v] of [['loop-start', 2], ['loop-end', 3]]) {"
                          "const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('change')); }")
    time.sleep(1.6)
    pos = driver.execute_script("return window.topdownPlayer.position()")
    check(2.0 <= pos <= 3.0, f"a loop from 2 to 3 s holds the position in it ({pos:.2f} s)")
    ActionChains(driver).send_keys(" ").perform()
    time.sleep(0.2)
    check(driver.find_element(By.ID, "player").get_attribute("data-state") == "stopped", "space stops")
    ActionChains(driver).send_keys(" ").perform()
    time.sleep(0.3)
    check(driver.find_element(By.ID, "player").get_attribute("data-state") == "playing", "space plays again")
    sources[-1].click()
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
