//! Solomon's VRPTW instances (text format): a depot, customers with coordinates, demand,
//! ready time, due date and service time, and a fleet of identical vehicles. Travel time and
//! distance are Euclidean, unrounded, as the best-known solutions count them.

use crate::{Load, Problem, Stop, TravelMatrix, Vehicle, Window};

/// An instance as read: its name, the planning problem, and the fleet it allows.
#[derive(Debug, Clone)]
pub struct Instance {
    pub name: String,
    pub problem: Problem,
}

#[derive(Debug, thiserror::Error)]
#[error("not a Solomon instance: {0}")]
pub struct ParseError(String);

/// Reads an instance. The depot is customer 0; every vehicle starts and ends there within
/// the depot's window; demand is in pieces.
pub fn parse(text: &str) -> Result<Instance, ParseError> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let name = lines
        .next()
        .ok_or_else(|| ParseError("empty".into()))?
        .to_owned();
    let numbers = |line: &str| -> Option<Vec<f64>> {
        line.split_whitespace().map(|t| t.parse().ok()).collect()
    };
    let mut fleet = None;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    for line in lines {
        match numbers(line) {
            Some(values) if values.len() == 2 && fleet.is_none() => fleet = Some(values),
            Some(values) if values.len() == 7 => rows.push(values),
            Some(values) => {
                return Err(ParseError(format!(
                    "a line of {} numbers: {line:?}",
                    values.len()
                )))
            }
            None => {} // headings
        }
    }
    let fleet = fleet.ok_or_else(|| ParseError("no VEHICLE NUMBER CAPACITY line".into()))?;
    let (vehicles, capacity) = (fleet[0] as usize, fleet[1] as i32);
    let depot = rows
        .first()
        .ok_or_else(|| ParseError("no depot (customer 0)".into()))?
        .clone();
    let n = rows.len();
    let mut distances = vec![0.; n * n];
    for (i, a) in rows.iter().enumerate() {
        for (j, b) in rows.iter().enumerate() {
            distances[i * n + j] = (a[1] - b[1]).hypot(a[2] - b[2]);
        }
    }
    let stops = rows[1..]
        .iter()
        .enumerate()
        .map(|(i, row)| Stop {
            id: format!("{}", row[0] as i64),
            location: i + 1,
            service: row[6],
            windows: vec![Window {
                start: row[4],
                end: row[5],
            }],
            demand: Load {
                pieces: row[3] as i32,
                ..Load::default()
            },
            skills: Vec::new(),
            vehicles: None,
            pickup: None,
        })
        .collect();
    let shift = Window {
        start: depot[4],
        end: depot[5],
    };
    let vehicles = (1..=vehicles)
        .map(|i| Vehicle {
            id: format!("v{i}"),
            profile: 0,
            start: 0,
            end: Some(0),
            shift,
            capacity: Load {
                pieces: capacity,
                ..Load::default()
            },
            skills: Vec::new(),
        })
        .collect();
    Ok(Instance {
        name,
        problem: Problem {
            stops,
            vehicles,
            matrices: vec![TravelMatrix {
                durations: distances.clone(),
                distances,
            }],
        },
    })
}
