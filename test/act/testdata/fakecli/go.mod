module example.com/fakecli

go 1.24
