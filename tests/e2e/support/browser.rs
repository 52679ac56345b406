//! A real browser for end-to-end tests: Debian's headless Chromium driven over the DevTools
//! protocol (chromiumoxide). Each [`Chromium`] is its own process with a fresh profile, started
//! with the flags that work as root in CI (see `shared/reference/local-video.md`), killed (and
//! its profile removed) on drop or when the test process dies.
//!
//! ```ignore
//! let browser = Chromium::launch().await;
//! let tab = browser.open("http://127.0.0.1:8080/").await;
//! let title: String = tab.eval("document.title").await;
//! tab.wait_for("the video plays", "document.querySelector('video').currentTime > 2", EVENTUALLY).await;
//! tab.screenshot("after-play").await;
//! browser.close().await;
//! ```
//!
//! Chromium comes from `ROOMCAST_CHROMIUM`, else `chromium` / `chromium-browser` on `PATH`
//! (`scripts/test.sh` installs Debian's `chromium` when it is missing).
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chromiumoxide::cdp::browser_protocol::page::CaptureScreenshotFormat;
use chromiumoxide::page::ScreenshotParams;
use chromiumoxide::{Browser, Page};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::scratch_dir;

/// Flags for a quiet, deterministic headless browser that may autoplay media.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
    "--hide-scrollbars",
    "--window-size=1280,720",
    // Any free port; the DevTools URL is read from stderr.
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
];

/// How long Chromium may take to print its DevTools URL.
const LAUNCH_BOUND: Duration = Duration::from_secs(60);

/// Finds the Chromium executable (see the module docs).
pub fn chromium_path() -> PathBuf {
    if let Some(p) = std::env::var_os("ROOMCAST_CHROMIUM") {
        return PathBuf::from(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "Chromium not found: install it (apt-get install chromium) or set ROOMCAST_CHROMIUM \
         (scripts/test.sh installs it when missing)"
    );
}

/// A headless Chromium process and its DevTools connection.
pub struct Chromium {
    child: Child,
    browser: Option<Browser>,
    events: tokio::task::JoinHandle<()>,
    /// Profile, stderr log and screenshots.
    pub dir: PathBuf,
}

impl Chromium {
    /// Starts Chromium with a fresh `--user-data-dir` and connects over DevTools.
    pub async fn launch() -> Chromium {
        Chromium::launch_with(&[]).await
    }

    /// [`Chromium::launch`] with more flags (e.g. a fake camera and microphone).
    pub async fn launch_with(extra: &[&str]) -> Chromium {
        let dir = scratch_dir("chromium");
        let profile = dir.join("profile");
        std::fs::create_dir_all(&profile).unwrap();
        let log = dir.join("chromium.log");
        let stderr = File::create(&log).unwrap();
        let mut cmd = Command::new(chromium_path());
        cmd.args(FLAGS)
            .args(extra)
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr);
        super::die_with_parent(&mut cmd);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium_path().display()));
        let ws = match wait_for_devtools_url(&mut child, &log) {
            Ok(ws) => ws,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{e}");
            }
        };
        let (browser, mut handler) = Browser::connect(ws.clone())
            .await
            .unwrap_or_else(|e| panic!("cannot connect to Chromium's DevTools at {ws}: {e}"));
        // The handler must be polled for anything to happen; per-message errors are not fatal.
        let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Chromium {
            child,
            browser: Some(browser),
            events,
            dir,
        }
    }

    /// Opens `url` in a new tab and waits for its load event.
    pub async fn open(&self, url: &str) -> Tab {
        let page = self
            .browser()
            .new_page(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
        page.wait_for_navigation()
            .await
            .unwrap_or_else(|e| panic!("loading {url}: {e}"));
        Tab {
            page,
            url: url.to_string(),
            dir: self.dir.clone(),
        }
    }

    /// Opens `url` in a new tab with `script` installed to run before any of the page's own scripts
    /// (as a wallet extension injects itself), and waits for its load event.
    pub async fn open_with_init_script(&self, url: &str, script: &str) -> Tab {
        let page = self
            .browser()
            .new_page("about:blank")
            .await
            .unwrap_or_else(|e| panic!("opening a tab: {e}"));
        page.add_init_script(script)
            .await
            .unwrap_or_else(|e| panic!("installing the init script: {e}"));
        page.goto(url)
            .await
            .unwrap_or_else(|e| panic!("loading {url}: {e}"));
        Tab {
            page,
            url: url.to_string(),
            dir: self.dir.clone(),
        }
    }

    fn browser(&self) -> &Browser {
        self.browser.as_ref().expect("browser is open")
    }

    /// Everything Chromium wrote to stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("chromium.log")).unwrap_or_default()
    }

    /// Closes the browser over DevTools, then makes sure the process is gone.
    pub async fn close(mut self) {
        if let Some(mut b) = self.browser.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), b.close()).await;
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.browser.take();
        self.events.abort();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(self.dir.join("profile"));
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Polls Chromium's stderr log for `DevTools listening on ws://...`.
fn wait_for_devtools_url(child: &mut Child, log: &Path) -> Result<String, String> {
    let deadline = Instant::now() + LAUNCH_BOUND;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if let Some(url) = text
            .lines()
            .find_map(|l| l.split_once("DevTools listening on ").map(|(_, u)| u))
        {
            return Ok(url.trim().to_string());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "Chromium exited ({status}) before DevTools was up; stderr:\n{text}"
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "Chromium printed no DevTools URL within {LAUNCH_BOUND:?}; stderr:\n{text}"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One open page.
pub struct Tab {
    page: Page,
    pub url: String,
    dir: PathBuf,
}

impl Tab {
    /// Evaluates a JavaScript expression (promises are awaited) and returns its JSON value.
    pub async fn eval<T: DeserializeOwned>(&self, js: &str) -> T {
        let result = self
            .page
            .evaluate(js)
            .await
            .unwrap_or_else(|e| panic!("evaluating `{js}` on {}: {e}", self.url));
        let value: Value = result.value().cloned().unwrap_or(Value::Null);
        serde_json::from_value(value.clone())
            .unwrap_or_else(|e| panic!("`{js}` returned {value}, not the expected type: {e}"))
    }

    /// Polls `js` (an expression) until it is truthy; panics with `what` and the last value of
    /// `state_js` (a diagnostic expression, e.g. the player's status) after `bound`.
    pub async fn wait_for(&self, what: &str, js: &str, bound: Duration) {
        self.wait_for_with(what, js, "null", bound).await
    }

    /// [`Tab::wait_for`] that reports `state_js` when it gives up.
    pub async fn wait_for_with(&self, what: &str, js: &str, state_js: &str, bound: Duration) {
        let deadline = Instant::now() + bound;
        let expr = format!("Boolean({js})");
        loop {
            if self.eval::<bool>(&expr).await {
                return;
            }
            if Instant::now() > deadline {
                let state: Value = self.eval(state_js).await;
                let shot = self.screenshot("timeout").await;
                panic!(
                    "{what}: `{js}` still false after {bound:?} on {}; state: {state}; screenshot: {}",
                    self.url,
                    shot.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Saves a PNG of the viewport under the browser's scratch dir; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .page
            .screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .build(),
            )
            .await
            .unwrap_or_else(|e| panic!("screenshot of {}: {e}", self.url));
        let path = self.dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// The underlying chromiumoxide page, for anything the helpers do not cover (clicks, typing,
    /// network events).
    pub fn page(&self) -> &Page {
        &self.page
    }

    /// Makes this the visible tab (background tabs may not play media).
    pub async fn bring_to_front(&self) {
        self.page
            .bring_to_front()
            .await
            .unwrap_or_else(|e| panic!("bringing {} to the front: {e}", self.url));
    }

    /// The page's URL after redirects.
    pub async fn location(&self) -> String {
        self.eval("location.href").await
    }
}
