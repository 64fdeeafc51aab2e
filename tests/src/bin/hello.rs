//! `planwright-hello`: a bare actix-web hello world answering `GET /health` with
//! `{"status":"ok"}`, the ceiling `bench/compare.sh` measures Planwright's `/health` against.
//!
//! ```text
//! planwright-hello --port 18300 --workers 2
//! ```

use actix_web::{App, HttpResponse, HttpServer, http::header::ContentType, web};
use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "planwright-hello", about = "Bare actix-web hello world on 127.0.0.1.")]
struct Args {
    /// Port on 127.0.0.1.
    #[arg(long, default_value_t = 18300)]
    port: u16,
    /// Worker threads.
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    HttpServer::new(|| {
        App::new().route(
            "/health",
            web::get().to(|| async {
                HttpResponse::Ok().content_type(ContentType::json()).body(r#"{"status":"ok"}"#)
            }),
        )
    })
    .workers(args.workers.max(1))
    .bind(("127.0.0.1", args.port))?
    .run()
    .await
}
