module perfdash.example/fixtures

go 1.19
