//! The §13.1 filter syntax as a table of cases.

use super::*;

/// One filter case: the expression, and either how it reads back (`Ok`) or words the error
/// must contain (`Err`).
fn check(expr: &str, expected: Result<&str, &str>) {
    let got = parse_filter(expr);
    match (got, expected) {
        (Ok(f), Ok(display)) => {
            assert_eq!(f.to_string(), display, "{expr}");
            assert_eq!(parse_filter(&f.to_string()), Ok(f), "{expr} round-trips");
        }
        (Err(e), Err(words)) => {
            let msg = e.to_string();
            assert!(msg.contains(words), "{expr}: {msg}");
            assert!(
                msg.contains(&format!("'{expr}'")),
                "names the filter: {msg}"
            );
            assert!(msg.contains("tag=TAG"), "lists the accepted forms: {msg}");
        }
        (got, expected) => panic!("{expr}: got {got:?}, expected {expected:?}"),
    }
}

#[test]
fn filter_syntax() {
    check("tag=VIP", Ok("tag=VIP"));
    check("tag = Botox Fans ", Ok("tag=Botox Fans"));
    check("tag!=VIP", Ok("tag!=VIP"));
    check("type=patient", Ok("type=Patient"));
    check("type=Lead", Ok("type=Lead"));
    check("status=SUBSCRIBED", Ok("status=Subscribed"));
    check("status!=Unsubscribed", Ok("status!=Unsubscribed"));
    check("dnd=false", Ok("dnd=false"));
    check("dnd=TRUE", Ok("dnd=true"));
    check("dnd_sms=false", Ok("dnd_sms=false"));
    check("dnd_email=true", Ok("dnd_email=true"));
    check("dnd_calls=false", Ok("dnd_calls=false"));
    check("dnd_voicemail=false", Ok("dnd_voicemail=false"));
    check("verification!=invalid", Ok("verification!=invalid"));
    check("verification=Valid", Ok("verification=valid"));
    check("source=Facebook", Ok("source=Facebook"));
    check("has=email", Ok("has=email"));
    check("has=Phone", Ok("has=phone"));
    check("created_after=2024-01-01", Ok("created_after=2024-01-01"));
    check("created_before=2024-02-29", Ok("created_before=2024-02-29"));
    check("import=42", Ok("import=42"));
    check(
        "field.treatment_of_interest=Botox",
        Ok("field.treatment_of_interest=Botox"),
    );
    check("field.note=a=b", Ok("field.note=a=b"));

    check("VIP", Err("no '='"));
    check("=VIP", Err("no key"));
    check("tag=", Err("'tag' needs a value"));
    check("colour=red", Err("'colour' is not a filter key"));
    check("type=Customer", Err("'type' is one of Lead, Patient"));
    check(
        "status=yes",
        Err("'status' is one of Subscribed, Unsubscribed"),
    );
    check("dnd=maybe", Err("'dnd' is true or false"));
    check("dnd_fax=false", Err("'dnd_fax' is not a filter key"));
    check("verification=bounced", Err("unverified, valid, invalid"));
    check("has=address", Err("'has' is email or phone"));
    check(
        "created_after=01/02/2024",
        Err("not a date written YYYY-MM-DD"),
    );
    check("created_after=2024-02-30", Err("not a date"));
    check("created_before=2024-1-1", Err("not a date"));
    check(
        "created_after!=2024-01-01",
        Err("cannot be negated; use created_before"),
    );
    check("import=abc", Err("takes a job id"));
    check("import=-3", Err("takes a job id"));
    check("field.=x", Err("is not a custom field key"));
    check("field.a-b=x", Err("is not a custom field key"));
}
