//! Prints a summary of a parsed roadmap: `cargo run -p roadmap-import --example dump -- FILE [--json]`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        eprintln!("usage: dump FILE [--json]");
        std::process::exit(2);
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    let doc = match roadmap_import::parse_document_bytes(&bytes) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    if args.iter().any(|a| a == "--json") {
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return;
    }
    println!("title: {:?}", doc.meta.title);
    println!("approval: {:?}", doc.meta.approval);
    println!("period: {:?}", doc.meta.period);
    println!("level: {:?}", doc.meta.level);
    println!("goals: {:?}", doc.meta.goals);
    for s in &doc.sections {
        println!("== {:?} {} (line {})", s.number, s.title, s.line);
        for m in &s.measures {
            print_measure(m, "  ");
        }
    }
    for m in &doc.milestones {
        print_measure(m, "CP ");
    }
    for a in &doc.abbreviations {
        println!("abbr {} = {} (line {})", a.short, a.full, a.line);
    }
    for t in &doc.indicator_targets {
        println!(
            "ind {} {} {:?} {} {} base={}",
            t.subject,
            t.grade.unwrap_or(0),
            t.year,
            t.value_raw,
            t.value,
            t.is_baseline
        );
    }
    for r in &doc.risk_groups {
        println!("risk {} -> {}", r.risk, r.target);
    }
    for l in &doc.lint {
        println!(
            "LINT {} {:?} line {} {:?}: {}",
            l.code, l.severity, l.line, l.measure_number, l.message
        );
    }
    println!("{:?}", doc.stats);
}

fn print_measure(m: &roadmap_import::Measure, indent: &str) {
    println!(
        "{indent}{} [{}] L{} {:?} | {} | sched {:?} {:?} {:?}",
        m.number.as_deref().unwrap_or("-"),
        m.key,
        m.line,
        m.title.chars().take(50).collect::<String>(),
        m.responsible
            .iter()
            .map(|p| format!(
                "{}<{:?}{}>",
                p.name,
                p.kind,
                p.abbreviation.as_deref().map(|a| format!(":{a}")).unwrap_or_default()
            ))
            .collect::<Vec<_>>()
            .join(" ; "),
        m.schedule.kind,
        m.schedule.items,
        m.schedule.leftover,
    );
    for t in &m.targets {
        println!(
            "{indent}    target {:?} {} {} / {}",
            t.comparator, t.value_raw, t.unit, t.subject
        );
    }
    for c in &m.children {
        print_measure(c, &format!("{indent}    "));
    }
}
