//! The HTTP side: the page's files, the event stream, requests and commands (docs/web.md).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq as _;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _, AsyncWriteExt as _};
use tokio::sync::broadcast;
use waweb_client::{Jid, MediaOptions, MediaType, SetPresence, TextOptions};
use waweb_proto::proto::{Message as WaMessage, MessageKey, WebMessageInfo};

use crate::assets;
use crate::inspect::frame_view;
use crate::state::{App, Upload, now_ms, now_secs};

type AppState = Arc<App>;

/// Every route, with the token and host checks.
pub(crate) fn router(app: AppState, addr: SocketAddr, has_token: bool) -> Router {
    let api = Router::new()
        .route("/api/events", get(events))
        .route("/api/messages", get(messages))
        .route("/api/frames", get(frames))
        .route("/api/capture", get(capture))
        .route("/api/media", get(media))
        .route("/api/upload", post(upload))
        .route("/api/cmd", post(command))
        .route("/api/sim/scan", post(sim_scan))
        .route("/api/sim/message", post(sim_message))
        .route("/api/sim/image", post(sim_image))
        .route("/api/sim/presence", post(sim_presence))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&app),
            require_token,
        ));
    let mut router = Router::new()
        .route("/", get(index))
        .route("/{file}", get(asset))
        .merge(api)
        .layer(middleware::from_fn(same_origin));
    if !has_token {
        // Without a token only the loopback names may reach us (no DNS rebinding).
        let port = addr.port();
        router = router.layer(middleware::from_fn(move |req: Request, next: Next| {
            loopback_host(port, req, next)
        }));
    }
    router.with_state(app)
}

// ----- guards -----

/// A failed request: its status and what went wrong (answered as `{"ok":false,"error"}`).
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

fn bad(status: StatusCode, msg: impl Into<String>) -> ApiError {
    ApiError(status, msg.into())
}

fn error(status: StatusCode, msg: impl Into<String>) -> Response {
    (
        status,
        axum::Json(json!({"ok": false, "error": msg.into()})),
    )
        .into_response()
}

/// Every `/api/` request carries the start token (query `token` or header `X-Waweb-Token`)
/// when the server has one; compared in constant time.
async fn require_token(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let Some(expected) = &app.token else {
        return next.run(req).await;
    };
    let from_header = req
        .headers()
        .get("x-waweb-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let from_query = req.uri().query().and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    let ok = [from_header, from_query]
        .into_iter()
        .flatten()
        .any(|given| {
            given.len() == expected.len() && bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
        });
    if ok {
        next.run(req).await
    } else {
        error(
            StatusCode::UNAUTHORIZED,
            "this server needs its start token (the URL it printed)",
        )
    }
}

/// A request that names another origin is refused (no cross-site requests).
async fn same_origin(req: Request, next: Next) -> Response {
    let headers = req.headers();
    if let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
        if origin_host != host {
            return error(StatusCode::FORBIDDEN, "cross-origin request refused");
        }
    }
    next.run(req).await
}

async fn loopback_host(port: u16, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let allowed = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| host == *h || host == format!("{h}:{port}"));
    if allowed {
        next.run(req).await
    } else {
        error(StatusCode::FORBIDDEN, format!("host {host:?} refused"))
    }
}

// ----- the page -----

async fn index(State(app): State<AppState>) -> Response {
    serve_asset(&app, "index.html").await
}

async fn asset(
    State(app): State<AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Response {
    serve_asset(&app, &file).await
}

async fn serve_asset(app: &App, name: &str) -> Response {
    let Some((ty, body)) = assets::find(name) else {
        return error(StatusCode::NOT_FOUND, format!("no file {name}"));
    };
    let body = match &app.assets_dir {
        Some(dir) => match tokio::fs::read_to_string(dir.join(name)).await {
            Ok(s) => s,
            Err(_) => body.to_owned(),
        },
        None => body.to_owned(),
    };
    (
        [
            (header::CONTENT_TYPE, ty),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

// ----- the event stream and reads -----

async fn events(
    State(app): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = app.hub.subscribe();
    let first = app.snapshot().to_string();
    let closing = app.closing();
    let stream = futures_util::stream::unfold(
        (Arc::clone(&app), rx, Some(first)),
        |(app, mut rx, first)| async move {
            if let Some(f) = first {
                return Some((SseEvent::default().data(f), (app, rx, None)));
            }
            let data = match rx.recv().await {
                Ok(msg) => msg.to_string(),
                // Fell behind: start over from a fresh snapshot.
                Err(broadcast::error::RecvError::Lagged(_)) => app.snapshot().to_string(),
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            Some((SseEvent::default().data(data), (app, rx, None)))
        },
    )
    .map(Ok)
    .take_until(closing);
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Deserialize)]
struct ChatQuery {
    chat: String,
}

fn parse_jid(s: &str) -> Result<Jid, ApiError> {
    s.parse::<Jid>()
        .map_err(|e| bad(StatusCode::BAD_REQUEST, format!("bad chat {s:?}: {e}")))
}

async fn messages(State(app): State<AppState>, Query(q): Query<ChatQuery>) -> Response {
    let jid = match parse_jid(&q.chat) {
        Ok(j) => j,
        Err(r) => return r.into_response(),
    };
    axum::Json(json!({"chat": q.chat, "messages": app.messages(&jid)})).into_response()
}

async fn frames(State(app): State<AppState>) -> Response {
    let frames: Vec<Value> = app.frames().iter().map(|f| frame_view(f, false)).collect();
    axum::Json(json!({ "frames": frames })).into_response()
}

#[derive(Deserialize)]
struct CaptureQuery {
    secrets: Option<String>,
}

async fn capture(State(app): State<AppState>, Query(q): Query<CaptureQuery>) -> Response {
    let secrets = q
        .secrets
        .as_deref()
        .is_some_and(|s| s == "1" || s == "true");
    let frames: Vec<Value> = app
        .frames()
        .iter()
        .map(|f| frame_view(f, secrets))
        .collect();
    let body = json!({
        "format": "waweb-capture/1",
        "created_ms": now_ms(),
        "server": app.url,
        "secrets": secrets,
        "frames": frames,
    });
    let name = format!("waweb-capture-{}.json", now_secs());
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        body.to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct MediaQuery {
    chat: String,
    id: String,
    download: Option<String>,
}

/// Downloads, checks and decrypts a message's media into a temporary file, then streams it.
async fn media(State(app): State<AppState>, Query(q): Query<MediaQuery>) -> Response {
    let jid = match parse_jid(&q.chat) {
        Ok(j) => j,
        Err(r) => return r.into_response(),
    };
    let Some(client) = app.client() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "not connected");
    };
    let Some(info) = client
        .with_store(|s| s.message(&jid, &q.id).map(|m| m.info.clone()))
        .flatten()
    else {
        return error(StatusCode::NOT_FOUND, format!("no message {}", q.id));
    };
    let (mimetype, file_name) = match info.media() {
        Some(m) => (
            m.mimetype.unwrap_or("application/octet-stream").to_owned(),
            info.message
                .as_ref()
                .and_then(|o| o.inner().unwrap_or(o).document_message.as_deref())
                .and_then(|d| d.file_name.clone()),
        ),
        None => return error(StatusCode::NOT_FOUND, "the message has no media"),
    };
    let file = match tempfile::tempfile() {
        Ok(f) => f,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let mut file = tokio::fs::File::from_std(file);
    if let Err(e) = client
        .download_media(&info, &mut file, &mut |_, _| {})
        .await
    {
        return error(StatusCode::BAD_GATEWAY, format!("download failed: {e}"));
    }
    if let Err(e) = file.flush().await {
        return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    if let Err(e) = file.seek(std::io::SeekFrom::Start(0)).await {
        return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    }
    let body = Body::from_stream(file_chunks(file));
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mimetype)
            .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    if q.download.is_some() {
        let name = file_name.unwrap_or_else(|| format!("{}.bin", q.id));
        let safe: String = name
            .chars()
            .map(|c| if c == '"' || c.is_control() { '_' } else { c })
            .collect();
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    (headers, body).into_response()
}

/// A file as a stream of chunks.
fn file_chunks(file: tokio::fs::File) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut f = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(f)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

// ----- sending -----

/// The largest file the page may send (WhatsApp's own limit for documents was lower).
const MAX_UPLOAD: u64 = 2 << 30;

#[derive(Deserialize)]
struct UploadQuery {
    chat: String,
    name: Option<String>,
    caption: Option<String>,
    quote: Option<String>,
}

/// Sends the request body as a media message, reporting progress on the event stream.
async fn upload(
    State(app): State<AppState>,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> Response {
    let jid = match parse_jid(&q.chat) {
        Ok(j) => j,
        Err(r) => return r.into_response(),
    };
    let Some(client) = app.client() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "not connected");
    };
    let mimetype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let total = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if total.is_some_and(|t| t > MAX_UPLOAD) {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("files over {} MiB cannot be sent", MAX_UPLOAD >> 20),
        );
    }
    let name = q.name.clone().unwrap_or_else(|| "file".to_owned());
    let media_type = match mimetype.split('/').next() {
        Some("image") if mimetype == "image/webp" => MediaType::Sticker,
        Some("image") => MediaType::Image,
        Some("video") => MediaType::Video,
        Some("audio") => MediaType::Audio,
        _ => MediaType::Document,
    };
    let mut options = MediaOptions::default().mimetype(mimetype);
    if let Some(c) = q.caption.as_deref().filter(|c| !c.is_empty()) {
        options = options.caption(c);
    }
    if media_type == MediaType::Document {
        options = options.file_name(name.clone());
    }
    if let Some(q) = q.quote.as_deref().filter(|q| !q.is_empty()) {
        match client
            .with_store(|s| s.message(&jid, q).map(|m| m.info.clone()))
            .flatten()
        {
            Some(info) => options = options.quoting(info),
            None => return error(StatusCode::BAD_REQUEST, format!("no message {q} to quote")),
        }
    }
    // The body streams into the encryptor. A body that breaks off, or grows past the limit,
    // is a read error there: the upload fails and nothing is sent (a pipe would have shown the
    // encryptor a clean end of file, and a truncated file would have gone out).
    let mut seen = 0u64;
    let body = req.into_body().into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen += chunk.len() as u64;
        if seen > MAX_UPLOAD {
            return Err(std::io::Error::other(format!(
                "files over {} MiB cannot be sent",
                MAX_UPLOAD >> 20
            )));
        }
        Ok(chunk)
    });
    let reader = tokio_util::io::StreamReader::new(body);
    let up = Upload {
        id: app.next_upload_id(),
        chat: crate::view::ui_jid(&jid),
        name,
        total,
    };
    let mut last = 0u64;
    let progress_app = Arc::clone(&app);
    let progress_up = up.clone();
    let mut progress = move |sent: u64, _: Option<u64>| {
        if sent == 0 || sent - last >= 128 * 1024 || Some(sent) == progress_up.total {
            last = sent;
            progress_app.upload_progress(&progress_up, sent, false, None);
        }
    };
    let result = client
        .send_media_with_progress(&jid, media_type, reader, options, &mut progress)
        .await;
    match result {
        Ok(sent) => {
            app.upload_progress(&up, total.unwrap_or(0), true, None);
            axum::Json(json!({"ok": true, "id": sent.id, "upload": up.id})).into_response()
        }
        Err(e) => {
            let msg = e.to_string();
            app.upload_progress(&up, 0, true, Some(msg.clone()));
            error(StatusCode::BAD_GATEWAY, msg)
        }
    }
}

/// One command from the page.
async fn command(State(app): State<AppState>, body: Bytes) -> Response {
    let cmd: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("command is not JSON: {e}")),
    };
    let name = cmd.get("cmd").and_then(Value::as_str).unwrap_or_default();
    if name == "restart" {
        if app.client().is_some() {
            return error(StatusCode::CONFLICT, "the client is running");
        }
        app.restart();
        return axum::Json(json!({"ok": true})).into_response();
    }
    let Some(client) = app.client() else {
        return error(StatusCode::SERVICE_UNAVAILABLE, "not connected");
    };
    let chat = match cmd.get("chat").and_then(Value::as_str).map(parse_jid) {
        Some(Ok(j)) => Some(j),
        Some(Err(r)) => return r.into_response(),
        None => None,
    };
    let need_chat = || {
        chat.clone()
            .ok_or_else(|| bad(StatusCode::BAD_REQUEST, format!("{name}: no chat")))
    };
    let result = match name {
        "send_text" => {
            let jid = match need_chat() {
                Ok(j) => j,
                Err(r) => return r.into_response(),
            };
            let text = cmd.get("text").and_then(Value::as_str).unwrap_or_default();
            if text.trim().is_empty() {
                return error(StatusCode::BAD_REQUEST, "send_text: empty text");
            }
            let mut options = TextOptions::default();
            if let Some(q) = cmd.get("quote").and_then(Value::as_str)
                && let Some(info) = client
                    .with_store(|s| s.message(&jid, q).map(|m| m.info.clone()))
                    .flatten()
            {
                options = options.quoting(info);
            }
            client
                .send_text_with(&jid, text, options)
                .await
                .map(|sent| json!({"ok": true, "id": sent.id}))
        }
        "read" => {
            let jid = match need_chat() {
                Ok(j) => j,
                Err(r) => return r.into_response(),
            };
            let last = client
                .with_store(|s| {
                    let count = s.chat(&jid).map_or(0, |c| c.count.max(0));
                    s.last_messages(&jid, 1)
                        .first()
                        .map(|m| (m.id.clone(), m.from_me, count))
                })
                .flatten();
            if jid.is_user() {
                // Presence updates for the open chat; a failure here is not the page's concern.
                let _ = client.subscribe_presence(&jid).await;
            }
            match last {
                Some((id, from_me, count)) => client
                    .mark_read(&jid, &id, from_me, u32::try_from(count).unwrap_or(0))
                    .await
                    .map(|()| {
                        app.publish_chat(&jid);
                        json!({"ok": true})
                    }),
                None => Ok(json!({"ok": true})),
            }
        }
        "typing" => {
            let jid = match need_chat() {
                Ok(j) => j,
                Err(r) => return r.into_response(),
            };
            let p = match cmd.get("state").and_then(Value::as_str) {
                Some("composing") => SetPresence::Composing,
                Some("recording") => SetPresence::Recording,
                _ => SetPresence::Paused,
            };
            client
                .send_presence(p, Some(&jid))
                .await
                .map(|()| json!({"ok": true}))
        }
        "logout" => client.logout().await.map(|()| json!({"ok": true})),
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown command {other:?}"),
            );
        }
    };
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}

// ----- the simulated phone -----

fn sim_of(app: &App) -> Result<&waweb_sim::SimHandle, ApiError> {
    app.sim
        .as_ref()
        .ok_or_else(|| bad(StatusCode::NOT_FOUND, "not running the simulator"))
}

fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| bad(StatusCode::BAD_REQUEST, format!("body is not JSON: {e}")))
}

fn str_field<'a>(v: &'a Value, k: &str) -> Result<&'a str, ApiError> {
    v.get(k)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(StatusCode::BAD_REQUEST, format!("missing {k:?}")))
}

fn ok_or_502<E: std::fmt::Display>(r: Result<Value, E>) -> Response {
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error(StatusCode::BAD_GATEWAY, e.to_string()),
    }
}

async fn sim_scan(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let sim = sim_of(&app)?;
        let v = json_body(&body)?;
        let qr = str_field(&v, "qr")?;
        Ok::<_, ApiError>(ok_or_502(sim.scan(qr).await.map(|()| json!({"ok": true}))))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// A fresh message id, as the phone makes them.
fn phone_message_id() -> String {
    let mut b = [0u8; 8];
    let _ = waweb_crypto::primitives::random_bytes(&mut b);
    format!("3EB0{}", hex::encode_upper(b))
}

fn wire_chat(from: &str) -> Result<String, ApiError> {
    Ok(parse_jid(from)?.normalized().to_string())
}

async fn sim_message(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let sim = sim_of(&app)?;
        let v = json_body(&body)?;
        let chat = wire_chat(str_field(&v, "from")?)?;
        let text = str_field(&v, "text")?;
        let id = phone_message_id();
        let msg = WebMessageInfo {
            key: MessageKey {
                remote_jid: Some(chat),
                from_me: Some(false),
                id: Some(id.clone()),
                participant: None,
            },
            message: Some(WaMessage::from_text(text)),
            message_timestamp: Some(now_secs()),
            ..WebMessageInfo::default()
        };
        Ok::<_, ApiError>(ok_or_502(
            sim.push_message(msg)
                .await
                .map(|()| json!({"ok": true, "id": id})),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn sim_image(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let sim = sim_of(&app)?;
        let v = json_body(&body)?;
        let chat = wire_chat(str_field(&v, "from")?)?;
        let caption = v.get("caption").and_then(Value::as_str).unwrap_or_default();
        let png = picture().map_err(|e| bad(StatusCode::INTERNAL_SERVER_ERROR, e))?;
        let pushed = sim.push_image_as(&chat, &png, "image/png", caption).await;
        Ok::<_, ApiError>(ok_or_502(
            pushed.map(|m| json!({"ok": true, "id": m.key.id})),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

async fn sim_presence(State(app): State<AppState>, body: Bytes) -> Response {
    let run = async {
        let sim = sim_of(&app)?;
        let v = json_body(&body)?;
        let from = parse_jid(str_field(&v, "from")?)?;
        let presence = str_field(&v, "presence")?;
        let push = json!(["Presence", {
            "id": crate::view::ui_jid(&from),
            "type": presence,
            "t": now_secs(),
        }]);
        Ok::<_, ApiError>(ok_or_502(
            sim.push_json(push).await.map(|()| json!({"ok": true})),
        ))
    };
    run.await.unwrap_or_else(IntoResponse::into_response)
}

/// A 160×120 picture (a sunset gradient) as PNG, for the simulated phone to send.
fn picture() -> Result<Vec<u8>, String> {
    let (w, h) = (160u32, 120u32);
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h {
        for x in 0..w {
            let sky = u8::try_from(255 - (y * 255 / h)).unwrap_or(0);
            let sun = if (x as i64 - 80).pow(2) + (y as i64 - 70).pow(2) < 400 {
                255
            } else {
                0
            };
            rgb.extend_from_slice(&[
                sky.max(sun),
                (sky / 2).max(sun / 2),
                96u8.saturating_sub(sky / 3),
            ]);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
    }
    Ok(out)
}
