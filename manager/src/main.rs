fn main() {
    eprintln!("nd-manager: not implemented yet");
    std::process::exit(1);
}
