//! The synonym table of SPEC §6.1, as data: a header equal to one of these (compared with
//! [`super::normalise_header`]) auto-maps to the field, after the standard fields' keys and
//! labels and the location's custom fields. Exporters' presets (SPEC §11) add their own
//! columns on top (`crate::presets`).

/// `(field key, synonyms)`: the complete list of SPEC §6.1.
pub const SYNONYMS: &[(&str, &[&str])] = &[
    // Opportunities (SPEC §7): used only where the object has these fields.
    ("opportunity_name", &["Deal Name"]),
    ("stage", &["Pipeline Stage"]),
    ("opportunity_value", &["Lead Value", "Deal Value", "Amount"]),
    (
        "first_name",
        &[
            "First",
            "Firstname",
            "Given Name",
            "Contact First Name",
            "Client First Name",
            "Customer First Name",
            "Patient First Name",
        ],
    ),
    (
        "last_name",
        &[
            "Last",
            "Lastname",
            "Surname",
            "Family Name",
            "Contact Last Name",
            "Client Last Name",
            "Customer Last Name",
            "Patient Last Name",
        ],
    ),
    (
        "email",
        &[
            "E-mail",
            "Email Address",
            "E-mail Address",
            "Mail",
            "Primary Email",
            "Email 1",
            "Email ID",
            "Personal Email",
            "Client Email",
            "Customer Email",
            "Patient Email",
        ],
    ),
    (
        "phone",
        &[
            "Phone Number",
            "Mobile",
            "Mobile Phone",
            "Mobile Number",
            "Cell",
            "Cell Phone",
            "Telephone",
            "Tel",
            "Primary Phone",
            "Phone 1",
            "Contact Number",
            "Client Phone",
            "Patient Phone",
        ],
    ),
    (
        "company_name",
        &[
            "Company",
            "Business",
            "Business Name",
            "Organization",
            "Organisation",
            "Organization Name",
        ],
    ),
    ("contact_type", &["Type", "Contact Type"]),
    (
        "source",
        &["Source", "Lead Source", "Contact Source", "Referral Source"],
    ),
    (
        "owner",
        &["Owner", "Assigned To", "User Assignment", "Assigned User"],
    ),
    (
        "postal_code",
        &["Zip", "Zip Code", "Postcode", "ZIP/Postal Code"],
    ),
    ("date_of_birth", &["DOB", "Birthday", "Birth Date"]),
    (
        "address1",
        &["Address 1", "Address Line 1", "Street", "Street Address"],
    ),
    ("state", &["Province", "Region", "State/Province"]),
    (
        "created_at",
        &["Created", "Date Created", "Created At", "Created Time"],
    ),
    ("timezone", &["Timezone", "TZ"]),
    ("tags", &["Tag", "Labels"]),
    ("note", &["Notes", "Comments"]),
    (
        "additional_emails",
        &[
            "Other Emails",
            "Secondary Email",
            "Email 2",
            "Email 3",
            "Other Email",
            "Work Email",
            "Business Email",
            "Home Email",
            "Email Home",
            "Email Work",
            "Email Other",
            "Alternate Email",
        ],
    ),
    (
        "additional_phones",
        &[
            "Additional Phones",
            "Other Phones",
            "Secondary Phone",
            "Phone 2",
            "Phone 3",
            "Home Phone",
            "Work Phone",
            "Business Phone",
            "Office Phone",
            "Day Phone",
            "Night Phone",
            "Evening Phone",
            "Other Phone",
            "Alternate Phone",
            "Landline",
            "Phone Home",
            "Phone Work",
        ],
    ),
];

/// The mobile columns of SPEC §6.1: when several columns are phones, the first of these is the
/// primary phone (texts go to the primary phone). A preset names its own (`crate::presets`).
pub const MOBILE_HEADERS: &[&str] = &[
    "Mobile",
    "Mobile Phone",
    "Mobile Number",
    "Cell",
    "Cell Phone",
];
