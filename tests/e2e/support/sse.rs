//! Server-Sent Events of `GET /api/rooms/{room}/events`, read raw: what a page's EventSource
//! receives, with the refusals and `retry:` values tests check.
use serde_json::Value;

use super::EVENTUALLY;

/// One Server-Sent Events stream of `GET /api/rooms/{room}/events`, read raw.
pub struct Events {
    pub response: reqwest::Response,
    buffer: String,
    /// Every `retry:` value seen, in milliseconds.
    pub retries: Vec<u64>,
}

impl Events {
    /// Opens the stream; `Err` with the refusal (status, headers, JSON body) if it is not 200.
    pub async fn open(
        client: &reqwest::Client,
        base: &str,
        room: &str,
    ) -> Result<Events, (u16, reqwest::header::HeaderMap, Value)> {
        let response = client
            .get(format!("{base}/api/rooms/{room}/events"))
            .send()
            .await
            .unwrap();
        if response.status() != 200 {
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = response.text().await.unwrap();
            return Err((
                status,
                headers,
                serde_json::from_str(&text).unwrap_or(Value::Null),
            ));
        }
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Ok(Events {
            response,
            buffer: String::new(),
            retries: vec![],
        })
    }

    /// The next `room` event, or `None` when the server ended the stream.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let (name, data) = self.next_event().await?;
            if name == "room" {
                return Some(data);
            }
        }
    }

    /// The next named event (`room`, `tip`, …) with its data, or `None` when the stream ended.
    pub async fn next_event(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event: ") {
                        name = Some(n.to_string());
                    } else if let Some(d) = line.strip_prefix("data: ") {
                        data.push_str(d);
                    } else if let Some(r) = line.strip_prefix("retry: ") {
                        self.retries.push(r.trim().parse().unwrap());
                    }
                }
                if let Some(name) = name {
                    return Some((name, serde_json::from_str(&data).unwrap()));
                }
                continue;
            }
            let chunk = tokio::time::timeout(EVENTUALLY, self.response.chunk())
                .await
                .expect("an event (or the end of the stream) in time")
                .ok()??;
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}
